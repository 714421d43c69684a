import type { RunState } from '@sagaflow/saga';
import type { RunStatus } from '../schema.js';

/** A run status change made by an operator's request (cancel, retry), reported once it has committed. */
export interface RunTransition {
  runId: string;
  workflowName: string;
  correlationId: string;
  from: RunStatus;
  to: RunStatus;
  /** when the run was created: the run's duration when `to` is terminal */
  createdAt: Date;
}

export function describeTransition(run: RunState, to: RunStatus | undefined): RunTransition {
  return {
    runId: run.runId,
    workflowName: run.workflowName,
    correlationId: run.correlationId,
    from: run.status,
    to: to ?? run.status,
    createdAt: run.createdAt,
  };
}
