import { canonicalJson } from '@sagaflow/definitions';
import { planSignal, rowWrites } from '@sagaflow/saga';
import { sql } from 'kysely';
import { createHash } from 'node:crypto';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Db } from '../pool.js';
import type { AttemptKind } from '../schema.js';
import { uuidv7 } from '../uuidv7.js';
import { applyRowWrites } from './apply-row-writes.js';
import { lockRunState } from './run-state.js';

export interface SendSignalArgs {
  runId: string;
  name: string;
  /** any JSON; undefined is stored as null */
  payload?: unknown;
  idempotencyKey?: string | undefined;
}

export interface SendSignalResult {
  signalId: string;
  runId: string;
  name: string;
  /** a waiting step has taken it (only ever true for an idempotent replay of an older signal) */
  consumed: boolean;
  /** false when an idempotency key returned a signal stored before */
  created: boolean;
}

const hashSignal = (name: string, payload: unknown): string =>
  createHash('sha256')
    .update(canonicalJson({ name, payload: payload ?? null }))
    .digest('hex');

/**
 * Stores a signal in a run's mailbox (docs/contract.md#durable-waits), one transaction: locks the run, replays an
 * idempotency key (same name and payload: the stored signal, nothing new; else ConflictError), refuses a terminal run
 * (ConflictError) or an unknown one (NotFoundError), and applies the writes of planSignal with the one writer: the
 * signal row and SIGNAL_RECEIVED in one statement, and, when the run's live item waits for a signal of this name, that
 * item due now (the engines are woken at commit).
 */
export async function sendSignal(db: Db, args: SendSignalArgs): Promise<SendSignalResult> {
  const { runId, name } = args;
  const key = args.idempotencyKey ?? null;
  const requestHash = key === null ? null : hashSignal(name, args.payload);
  return db.transaction().execute(async (trx) => {
    const run = await lockRunState(trx, runId);
    if (!run) throw new NotFoundError(`run ${runId} not found`);
    if (key !== null) {
      const existing = await trx
        .selectFrom('run_signals')
        .select(['id', 'name', 'request_hash', 'consumed_at'])
        .where('run_id', '=', runId)
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
      if (existing) {
        if (existing.request_hash !== requestHash)
          throw new ConflictError(`idempotency key "${key}" was already used with a different signal or payload`);
        return {
          signalId: existing.id,
          runId,
          name: existing.name,
          consumed: existing.consumed_at !== null,
          created: false,
        };
      }
    }
    // the live item, unless an engine holds it (leased, or being claimed right now: SKIP LOCKED)
    const { rows } = await sql<{ id: string; step_index: number; kind: AttemptKind; lease_owner: string | null }>`
      select id, step_index, kind, lease_owner from outbox
       where run_id = ${runId} and status = 'READY'
         for update skip locked
    `.execute(trx);
    const live = rows[0] && rows[0].lease_owner === null ? rows[0] : undefined;
    const signalId = uuidv7();
    const decision = planSignal(
      run,
      { signalId, name, payload: args.payload ?? null, idempotencyKey: key, requestHash },
      live ? { stepIndex: live.step_index, kind: live.kind } : undefined,
    );
    if (!decision.ok) throw new ConflictError(decision.reason);
    const item = live ? { id: live.id, stepIndex: live.step_index, kind: live.kind, leaseToken: null } : undefined;
    const applied = await applyRowWrites(trx, [rowWrites(run, decision.plan, { item })]);
    if (!applied.has(runId)) throw new Error(`signal for run ${runId} failed its guard under lock`);
    return { signalId, runId, name, consumed: false, created: true };
  });
}

/** The oldest unconsumed signal of `name` in a run's mailbox (what a waiting step takes), or undefined. */
export async function oldestSignal(
  db: Db,
  runId: string,
  name: string,
): Promise<{ signalId: string; payload: unknown } | undefined> {
  const row = await db
    .selectFrom('run_signals')
    .select(['id', 'payload'])
    .where('run_id', '=', runId)
    .where('name', '=', name)
    .where('consumed_at', 'is', null)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  return row ? { signalId: row.id, payload: row.payload ?? null } : undefined;
}
