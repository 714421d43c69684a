import { planRetry, rowWrites } from '@sagaflow/saga';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Db } from '../pool.js';
import type { RunStatus } from '../schema.js';
import { applyRowWrites } from './apply-row-writes.js';
import { lockRunState } from './run-state.js';
import { describeTransition, type RunTransition } from './run-transition.js';

/**
 * An operator's retry (docs/contract.md#retry-step): a FAILED forward step of a run that compensated nothing runs again and the run
 * goes on forward; or a FAILED compensation runs again and the unwinding resumes. Anything else is a conflict.
 */
export async function retryStep(
  db: Db,
  runId: string,
  stepId: string,
): Promise<{ runId: string; stepId: string; status: RunStatus }> {
  const { status } = await retryStepWithTransition(db, runId, stepId);
  return { runId, stepId, status };
}

/** retryStep, also reporting the committed transition (for the caller's log line). */
export async function retryStepWithTransition(
  db: Db,
  runId: string,
  stepId: string,
  reason: string | null = null,
): Promise<{ runId: string; stepId: string; status: RunStatus; transition: RunTransition }> {
  return db.transaction().execute(async (trx) => {
    const run = await lockRunState(trx, runId);
    if (!run) throw new NotFoundError(`run ${runId} not found`);
    const step = run.steps.find((s) => s.stepId === stepId);
    if (!step) throw new NotFoundError(`run ${runId} has no step ${stepId}`);

    const decision = planRetry(run, step.index);
    if (!decision.ok) throw new ConflictError(`cannot retry step ${stepId}: ${decision.reason}`);
    // the plan resolves (deletes) the run's parked items and enqueues the retried work
    const operator = { action: 'retry-step', reason, operationId: null };
    await applyRowWrites(trx, [rowWrites(run, decision.plan, { operator })]);
    const transition = describeTransition(run, decision.plan.run?.status);
    return { runId, stepId, status: transition.to, transition };
  });
}
