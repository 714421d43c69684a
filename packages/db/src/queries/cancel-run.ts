import { planCancel, rowWrites } from '@sagaflow/saga';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Db } from '../pool.js';
import type { RunStatus } from '../schema.js';
import { applyRowWrites } from './apply-row-writes.js';
import { liveItemForCancel } from './operator-actions.js';
import { lockRunState } from './run-state.js';
import { describeTransition, type RunTransition } from './run-transition.js';

/**
 * Cancels a PENDING or RUNNING run. Forward work not yet taken is withdrawn; an item some engine holds
 * (in flight, or whose engine died and whose lease will expire) finishes first and the engine unwinds after it.
 * Succeeded steps are compensated in reverse order; the run ends CANCELLED.
 */
export async function cancelRun(db: Db, runId: string): Promise<{ runId: string; status: RunStatus }> {
  const { status } = await cancelRunWithTransition(db, runId);
  return { runId, status };
}

/** cancelRun, also reporting the committed transition (for the caller's log line and metrics). */
export async function cancelRunWithTransition(
  db: Db,
  runId: string,
  reason: string | null = null,
): Promise<{ runId: string; status: RunStatus; transition: RunTransition }> {
  return db.transaction().execute(async (trx) => {
    const run = await lockRunState(trx, runId);
    if (!run) throw new NotFoundError(`run ${runId} not found`);

    const live = await liveItemForCancel(trx, runId);
    const decision = planCancel(run, live);
    if (!decision.ok) throw new ConflictError(decision.reason);
    // a leased item is its holder's: the plan keeps it; an unleased one is withdrawn or moved on by the writes
    const item =
      live && !live.leased ? { id: live.id, stepIndex: live.stepIndex, kind: live.kind, leaseToken: null } : undefined;
    await applyRowWrites(trx, [rowWrites(run, decision.plan, { item, cancelReason: reason })]);
    const transition = describeTransition(run, decision.plan.run?.status);
    return { runId, status: transition.to, transition };
  });
}
