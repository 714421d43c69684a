import {
  planCancel,
  planPause,
  planRedrive,
  planResume,
  rowWrites,
  type Plan,
  type RunState,
  type WriteContext,
} from '@sagaflow/saga';
import { sql } from 'kysely';
import type { Db } from '../pool.js';
import type { AttemptKind, RunStatus } from '../schema.js';
import { applyRowWrites } from './apply-row-writes.js';
import { lockRunState, type Trx } from './run-state.js';
import { describeTransition, type RunTransition } from './run-transition.js';

/**
 * The per-run operator actions (docs/contract.md#operator-actions): redrive, pause, resume and cancel, each one
 * transaction that locks the run, plans with the saga core and writes through the one writer (rowWrites +
 * applyRowWrites) with its OPERATOR_ACTION event. Each returns whether it applied, so a bulk operation counts
 * succeeded and skipped runs without catching errors. Given a transaction (`db.isTransaction`), an action runs inside
 * it, so the caller can record its own progress in the same commit.
 */

/** Who asks and why: written into the run's OPERATOR_ACTION event `{ action, reason, operationId }`. */
export interface OperatorRequest {
  reason?: string | null;
  /** the bulk operation this action belongs to; null (or absent) for a single request */
  operationId?: string | null;
}

/**
 * The action did nothing: `NOT_FOUND` (no such run), `CONFLICT` (not eligible: 409 with `reason`), or `NOOP` (already
 * as asked: pausing a paused run, resuming a running one; answered 202). `status` and `paused` describe the run now
 * (null / false when it does not exist).
 */
export interface OperatorSkipped {
  applied: false;
  code: 'NOT_FOUND' | 'CONFLICT' | 'NOOP';
  reason: string;
  runId: string;
  status: RunStatus | null;
  paused: boolean;
}

export interface OperatorApplied {
  applied: true;
  runId: string;
  /** the run's status after the action */
  status: RunStatus;
  /** the run's pause flag after the action */
  paused: boolean;
  /** the run status change the action made (from = to when it changed none), for the caller's log and metrics */
  transition: RunTransition;
}

export type OperatorActionResult = OperatorApplied | OperatorSkipped;

export type RedriveResult = (OperatorApplied & { stepId: string; kind: AttemptKind }) | OperatorSkipped;

async function inTransaction<T>(db: Db, work: (trx: Trx) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Trx) : db.transaction().execute(work);
}

function skipped(runId: string, run: RunState | undefined, code: OperatorSkipped['code'], reason: string) {
  return { applied: false as const, code, reason, runId, status: run?.status ?? null, paused: run?.paused ?? false };
}

const notFound = (runId: string): OperatorSkipped => skipped(runId, undefined, 'NOT_FOUND', `run ${runId} not found`);

function operatorContext(action: string, request: OperatorRequest): WriteContext['operator'] {
  return { action, reason: request.reason ?? null, operationId: request.operationId ?? null };
}

type Decided<T> = { plan: Plan; context: WriteContext; extra: T } | OperatorSkipped;

/**
 * Locks the run, decides, and applies the decision through the one writer. The run row is locked, so the writer's guard
 * can only fail when the run's workflow was paused or resumed between the read and the write: then it is decided again.
 */
async function act<T extends object>(
  db: Db,
  runId: string,
  decide: (trx: Trx, run: RunState) => Promise<Decided<T>>,
): Promise<(OperatorApplied & T) | OperatorSkipped> {
  return inTransaction(db, async (trx) => {
    for (let round = 0; round < 3; round++) {
      const run = await lockRunState(trx, runId);
      if (!run) return notFound(runId);
      const decided = await decide(trx, run);
      if ('applied' in decided) return decided;
      const writes = rowWrites(run, decided.plan, decided.context);
      if (!(await applyRowWrites(trx, [writes])).has(runId)) continue;
      return {
        applied: true as const,
        runId,
        status: writes.after.status,
        paused: writes.after.paused,
        transition: describeTransition(run, decided.plan.run?.status),
        ...decided.extra,
      };
    }
    throw new Error(`operator action on run ${runId}: its workflow kept being paused and resumed`);
  });
}

/**
 * Redrive (docs/contract.md#redrive): runs again what retry-step would be named with — the FAILED compensation of a
 * COMPENSATION_FAILED run, else the FAILED step of a forward failure — with a fresh attempt budget. Anything else is
 * CONFLICT with the reason. Writes OPERATOR_ACTION `{ action: 'redrive' }` before the run's status change.
 */
export async function redriveRun(db: Db, runId: string, request: OperatorRequest = {}): Promise<RedriveResult> {
  return act(db, runId, async (_trx, run) => {
    const decision = planRedrive(run);
    if (!decision.ok) return skipped(runId, run, 'CONFLICT', `cannot redrive: ${decision.reason}`);
    const { plan, target } = decision.plan;
    const extra = { stepId: run.steps[target.stepIndex]!.stepId, kind: target.kind };
    return { plan, context: { operator: operatorContext('redrive', request) }, extra };
  });
}

/**
 * Pause (docs/contract.md#pause): sets the run's flag; no new attempt of it starts until resume. An attempt in flight
 * finishes and is recorded; what would follow it waits. A paused run is NOOP; a terminal or cancelling run CONFLICT.
 */
export async function pauseRun(db: Db, runId: string, request: OperatorRequest = {}): Promise<OperatorActionResult> {
  return act(db, runId, async (_trx, run) => {
    const decision = planPause(run);
    if (!decision.ok) return skipped(runId, run, decision.noop ? 'NOOP' : 'CONFLICT', decision.reason);
    return { plan: decision.plan, context: { operator: operatorContext('pause', request) }, extra: {} };
  });
}

/** Resume: clears the flag; what became due while paused is due at once. A run that is not paused is NOOP. */
export async function resumeRun(db: Db, runId: string, request: OperatorRequest = {}): Promise<OperatorActionResult> {
  return act(db, runId, async (_trx, run) => {
    const decision = planResume(run);
    if (!decision.ok) return skipped(runId, run, decision.noop ? 'NOOP' : 'CONFLICT', decision.reason);
    return { plan: decision.plan, context: { operator: operatorContext('resume', request) }, extra: {} };
  });
}

/**
 * Cancel as an operator action (the same decision as cancelRun: PENDING or RUNNING only, else CONFLICT; a paused run
 * unpauses and unwinds). With an `operationId` (a bulk operation) the run also gets OPERATOR_ACTION
 * `{ action: 'cancel' }` before its CANCEL_REQUESTED; `reason` goes into CANCEL_REQUESTED.
 */
export async function cancelRunAction(
  db: Db,
  runId: string,
  request: OperatorRequest = {},
): Promise<OperatorActionResult> {
  return act(db, runId, async (trx, run) => {
    const live = await liveItemForCancel(trx, runId);
    const decision = planCancel(run, live);
    if (!decision.ok) return skipped(runId, run, 'CONFLICT', decision.reason);
    // a leased item is its holder's: the plan keeps it; an unleased one is withdrawn or moved on by the writes
    const item =
      live && !live.leased ? { id: live.id, stepIndex: live.stepIndex, kind: live.kind, leaseToken: null } : undefined;
    const operator = request.operationId ? operatorContext('cancel', request) : undefined;
    return { plan: decision.plan, context: { item, operator, cancelReason: request.reason ?? null }, extra: {} };
  });
}

/** The run's live item for a cancel; SKIP LOCKED: a row locked right now is being claimed by an engine, so it counts as leased. */
export async function liveItemForCancel(
  trx: Trx,
  runId: string,
): Promise<{ id: string; stepIndex: number; kind: AttemptKind; leased: boolean } | undefined> {
  const { rows } = await sql<{ id: string; step_index: number; kind: AttemptKind; lease_owner: string | null }>`
    select id, step_index, kind, lease_owner from outbox
     where run_id = ${runId} and status = 'READY'
       for update skip locked
  `.execute(trx);
  const free = rows[0];
  if (free) return { id: free.id, stepIndex: free.step_index, kind: free.kind, leased: free.lease_owner !== null };
  const locked = await trx
    .selectFrom('outbox')
    .select(['id', 'step_index', 'kind'])
    .where('run_id', '=', runId)
    .where('status', '=', 'READY')
    .executeTakeFirst();
  return locked ? { id: locked.id, stepIndex: locked.step_index, kind: locked.kind, leased: true } : undefined;
}
