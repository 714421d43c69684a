import type { OperationAction } from '../schema.js';
import type { RunAction, RunActionOutcome } from './operation-batch.js';
import {
  cancelRunAction,
  pauseRun,
  planPauseWrites,
  planRedriveWrites,
  planResumeWrites,
  redriveRun,
  resumeRun,
  type OperatorActionResult,
  type OperatorPlanner,
  type OperatorRequest,
} from './operator-actions.js';
import type { Trx } from './run-state.js';

type OperatorAction = (db: Trx, runId: string, request: OperatorRequest) => Promise<OperatorActionResult>;

/** A per-run operator action inside the batch's transaction; not applied (not found, not eligible, no-op) → skipped. */
const bulk =
  (action: OperatorAction): RunAction =>
  async (trx, runId, request): Promise<RunActionOutcome> => {
    const result = await action(trx, runId, request);
    if (!result.applied) return { applied: false, reason: result.reason };
    return { applied: true, from: result.transition.from, to: result.transition.to };
  };

/** What each bulk action does to one run, inside the batch's transaction (operation-batch.ts). */
export const BULK_ACTIONS: Readonly<Record<OperationAction, RunAction>> = {
  cancel: bulk(cancelRunAction),
  redrive: bulk(redriveRun),
  pause: bulk(pauseRun),
  resume: bulk(resumeRun),
};

/**
 * The actions a batch can plan set-based (operation-batch.ts): every run locked in one statement, all writes in one
 * applyRowWrites call. Cancel is not here: it reads each run's live outbox item, so it stays per run.
 */
export const BULK_PLANNERS: Readonly<Partial<Record<OperationAction, OperatorPlanner>>> = {
  redrive: planRedriveWrites,
  pause: planPauseWrites,
  resume: planResumeWrites,
};
