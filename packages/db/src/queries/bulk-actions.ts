import type { OperationAction } from '../schema.js';
import { cancelRunIn } from './cancel-run.js';
import type { RunAction } from './operation-batch.js';

/** Bulk cancel: the run's own cancel, with OPERATOR_ACTION naming the operation. */
const cancelAction: RunAction = async (trx, runId, request) => {
  const { transition } = await cancelRunIn(trx, runId, request);
  return { applied: true, from: transition.from, to: transition.to };
};

const notYet =
  (action: OperationAction): RunAction =>
  () =>
    Promise.resolve({ applied: false, reason: `${action} is not available in this build` });

/** What each bulk action does to one run, inside the batch's transaction (operation-batch.ts). */
export const BULK_ACTIONS: Readonly<Record<OperationAction, RunAction>> = {
  cancel: cancelAction,
  redrive: notYet('redrive'),
  pause: notYet('pause'),
  resume: notYet('resume'),
};
