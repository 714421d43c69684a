import type { OperationAction } from '../schema.js';
import type { RunAction, RunActionOutcome } from './operation-batch.js';
import {
  cancelRunAction,
  pauseRun,
  redriveRun,
  resumeRun,
  type OperatorActionResult,
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
