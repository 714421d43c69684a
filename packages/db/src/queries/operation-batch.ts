import { sql } from 'kysely';
import { isDomainError } from '../errors.js';
import type { Db } from '../pool.js';
import type { OperationAction, OperationRunState, RunStatus } from '../schema.js';
import type { Trx } from './run-state.js';

/**
 * The engines' side of bulk operations (docs/operations.md#bulk-operations). Two steps, each one transaction:
 *
 * 1. reserveOperationBatch: the rate limit. The due RUNNING operation with the oldest `next_run_at` (SKIP LOCKED)
 *    gets its `next_run_at` moved on by n / rate seconds, from now at the earliest: whoever processes the next n runs
 *    paid for them, and over any time T at most rate × T + n runs are taken, however many engines share the work.
 * 2. processOperationBatch: holds the operation row FOR KEY SHARE (cancelOperation's FOR UPDATE waits for it), takes up
 *    to n PENDING runs of it (FOR UPDATE SKIP LOCKED, in run id order, the order every writer locks runs in), applies the
 *    action to each inside a savepoint and marks each run SUCCEEDED / SKIPPED / FAILED — all in one transaction, so a
 *    run's action and its leaving PENDING commit together or not at all (a kill -9 rolls back both; the run is taken
 *    again later). Several batches of one operation run at once on disjoint runs.
 */

/** What applying an action to one run did. Not applied: the run was not eligible (it is skipped, with the reason). */
export type RunActionOutcome = { applied: true; from: RunStatus; to: RunStatus } | { applied: false; reason: string };

/**
 * An action on one run inside the caller's transaction, writing its history (OPERATOR_ACTION naming the operation)
 * through the one writer. Throwing a domain error (not found, conflict) counts as not applied; anything else thrown
 * fails the run.
 */
export type RunAction = (
  trx: Trx,
  runId: string,
  request: { reason: string | null; operationId: string },
) => Promise<RunActionOutcome>;

export interface OperationReservation {
  operationId: string;
  action: OperationAction;
  reason: string | null;
  /** how many runs this reservation paid for */
  runs: number;
}

export interface ProcessedRun {
  runId: string;
  state: Exclude<OperationRunState, 'PENDING'>;
  reason: string | null;
  /** the run's status change when the action was applied */
  from: RunStatus | null;
  to: RunStatus | null;
}

export interface OperationBatchResult {
  operationId: string;
  action: OperationAction;
  /** the runs whose state committed with this batch */
  runs: ProcessedRun[];
  /** runs left PENDING after a transient database error (deadlock, serialization): taken again later */
  retried: number;
  /** the operation finished with this batch (every run processed) */
  completed: boolean;
}

/** Runs one reservation pays for: a tenth of a second's worth at the operation's rate, at least 1, at most `max`. */
const BATCH_RUNS = (max: number) => sql<number>`least(${max}::int, greatest(1, ceil(o.rate_per_second / 10.0)::int))`;

/** Reserves the next batch of the most overdue RUNNING operation; undefined when none is due. */
export async function reserveOperationBatch(db: Db, maxRuns: number): Promise<OperationReservation | undefined> {
  const { rows } = await sql<{ id: string; action: OperationAction; reason: string | null; runs: number }>`
    update operations o
       set next_run_at = greatest(o.next_run_at, now()) + make_interval(secs => ${BATCH_RUNS(maxRuns)}::float8 / o.rate_per_second)
      from (select id from operations
             where status = 'RUNNING' and next_run_at <= now()
             order by next_run_at limit 1
               for no key update skip locked) due
     where o.id = due.id
    returning o.id, o.action, o.reason, ${BATCH_RUNS(maxRuns)} as runs
  `.execute(db);
  const row = rows[0];
  return row ? { operationId: row.id, action: row.action, reason: row.reason, runs: Number(row.runs) } : undefined;
}

/** When the next RUNNING operation's reservation is due (undefined: none is running). */
export async function nextOperationDueAt(db: Db): Promise<Date | undefined> {
  const row = await db
    .selectFrom('operations')
    .select(sql<Date | null>`min(next_run_at)`.as('due'))
    .where('status', '=', 'RUNNING')
    .executeTakeFirst();
  return row?.due ?? undefined;
}

/** SQLSTATEs after which the same run is simply tried again later: deadlock, serialization failure, lock timeout. */
const TRANSIENT = new Set(['40P01', '40001', '55P03']);

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 500 ? `${message.slice(0, 497)}...` : message;
}

/** Processes the runs a reservation paid for (see the module comment); undefined when the operation stopped meanwhile. */
export async function processOperationBatch(
  db: Db,
  reservation: OperationReservation,
  actions: Readonly<Record<OperationAction, RunAction>>,
): Promise<OperationBatchResult | undefined> {
  const { operationId, action, reason, runs: wanted } = reservation;
  const act = actions[action];
  const batch = await db.transaction().execute(async (trx) => {
    const { rows: ops } = await sql<{ status: string }>`
      select status from operations where id = ${operationId} for key share
    `.execute(trx);
    if (ops[0]?.status !== 'RUNNING') return undefined;
    const { rows: pending } = await sql<{ run_id: string }>`
      select run_id from operation_runs
       where operation_id = ${operationId} and state = 'PENDING'
       order by run_id limit ${wanted}
         for update skip locked
    `.execute(trx);

    const done: ProcessedRun[] = [];
    let retried = 0;
    for (const { run_id: runId } of pending) {
      await sql`savepoint operation_run`.execute(trx);
      try {
        const outcome = await act(trx, runId, { reason, operationId });
        await sql`release savepoint operation_run`.execute(trx);
        done.push(
          outcome.applied
            ? { runId, state: 'SUCCEEDED', reason: null, from: outcome.from, to: outcome.to }
            : { runId, state: 'SKIPPED', reason: outcome.reason, from: null, to: null },
        );
      } catch (error) {
        await sql`rollback to savepoint operation_run`.execute(trx);
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string' && TRANSIENT.has(code)) {
          retried++;
          continue;
        }
        const skipped = isDomainError(error);
        done.push({ runId, state: skipped ? 'SKIPPED' : 'FAILED', reason: messageOf(error), from: null, to: null });
      }
    }

    if (done.length > 0) {
      const states = done.map((r) => ({ run_id: r.runId, state: r.state, reason: r.reason }));
      await sql`
        update operation_runs r set state = s.state, reason = s.reason, done_at = clock_timestamp()
          from jsonb_to_recordset(${JSON.stringify(states)}::jsonb) as s(run_id uuid, state text, reason text)
         where r.operation_id = ${operationId} and r.run_id = s.run_id
      `.execute(trx);
    }
    return { runs: done, retried, exhausted: pending.length < wanted };
  });
  if (!batch) return undefined;
  let completed = false;
  if (batch.exhausted && batch.retried === 0) {
    // after the commit, outside the row lock: a batch still in flight holds runs that are PENDING to this statement,
    // so it (or the next reservation) completes the operation instead
    const result = await sql`
      update operations set status = 'COMPLETED', finished_at = now()
       where id = ${operationId} and status = 'RUNNING'
         and not exists (select 1 from operation_runs where operation_id = ${operationId} and state = 'PENDING')
    `.execute(db);
    completed = Number(result.numAffectedRows ?? 0) > 0;
  }
  return { operationId, action, runs: batch.runs, retried: batch.retried, completed };
}
