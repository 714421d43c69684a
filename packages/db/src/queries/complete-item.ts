import { LeaseLostError } from '../errors.js';
import type { Db } from '../pool.js';
import { planCompletion, snapshotAfter, type AttemptResult, type Plan } from '../saga-plan.js';
import type { AttemptKind, AttemptOutcome } from '../schema.js';
import { applyPlan, type CarriedLease } from './apply-plan.js';
import { lockLeasedRunSnapshot, type LockedRun } from './run-snapshot.js';

export interface LeasedItem {
  id: string;
  runId: string;
  stepIndex: number;
  kind: AttemptKind;
  leaseToken: string;
}

export interface AttemptRecord {
  attemptNo: number;
  outcome: AttemptOutcome;
  httpStatus: number | null;
  error: Record<string, unknown> | null;
  startedAt: Date;
  finishedAt: Date;
}

export interface CompletionOutcome {
  plan: Plan;
  /** the run as it was before this completion */
  before: LockedRun;
  /** the run as this completion left it (what the carried item, if any, plans its own completion from) */
  after: LockedRun;
  /** the next item, already leased to the caller (only when `carryOver` was given and work is due now) */
  carried?: CarriedLease;
}

/**
 * Completes an outbox item in one transaction: checks the lease is still held (fencing), records the attempt,
 * moves the step and the run, enqueues what comes next, retires the item. Throws LeaseLostError, committing nothing,
 * when another worker owns the item now. With `carryOver`, work that becomes due now stays leased to the caller
 * (new token) and is returned, so the engine goes on without a claim round trip.
 */
export async function completeItem(
  db: Db,
  item: LeasedItem,
  attempt: AttemptRecord | undefined,
  result: AttemptResult,
  options: { carryOver?: { owner: string; leaseMs: number } } = {},
): Promise<CompletionOutcome> {
  return db.transaction().execute(async (trx) => {
    const run = await lockLeasedRunSnapshot(trx, item.runId, item.id, item.leaseToken);
    if (!run) throw new LeaseLostError(item.id);

    const plan = planCompletion(run, item, attempt?.attemptNo, result);
    if (attempt) {
      await trx
        .insertInto('step_attempts')
        .values({
          run_id: item.runId,
          step_index: item.stepIndex,
          kind: item.kind,
          attempt_no: attempt.attemptNo,
          outcome: attempt.outcome,
          http_status: attempt.httpStatus,
          error: attempt.error ? JSON.stringify(attempt.error) : null,
          started_at: attempt.startedAt,
          finished_at: attempt.finishedAt,
        })
        .execute();
    }
    // work due now that is not carried on (a parked item's next, a hand-back) wakes the engines
    const { carried } = await applyPlan(trx, item.runId, item.id, plan, {
      notify: true,
      ...(options.carryOver ? { carry: options.carryOver } : {}),
    });
    return { plan, before: run, after: snapshotAfter(run, plan, carried), ...(carried ? { carried } : {}) };
  });
}
