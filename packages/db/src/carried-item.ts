import type { AttemptResult } from '@sagaflow/saga';
import type { ClaimedItem } from './queries/claim-outbox-batch.js';
import type { CompletionOutcome } from './queries/complete-item.js';

/**
 * The run's next item as its holder has it after a completion that carried the lease on: the same item row, moved to
 * the next step under a new token, with the run state the completion's writes left (exact: written under its guard).
 */
export function continueWith(
  item: ClaimedItem,
  result: AttemptResult,
  completion: CompletionOutcome,
): ClaimedItem | undefined {
  const next = completion.carried;
  if (!next) return undefined;
  const step = completion.after.steps[next.stepIndex];
  if (!step) throw new Error(`run ${item.runId} has no step ${next.stepIndex}`);
  const outputs =
    result.outcome === 'SUCCEEDED' && item.kind === 'action'
      ? { ...item.outputs, [item.stepId]: result.output }
      : item.outputs;
  const action = next.kind === 'action';
  return {
    ...item,
    stepIndex: next.stepIndex,
    kind: next.kind,
    leaseToken: next.leaseToken,
    deliveries: 1,
    stepId: step.stepId,
    attemptsMade: action ? step.attempts : step.compensationAttempts,
    attemptsBeforeRetry: action ? step.attemptsBeforeRetry : step.compensationAttemptsBeforeRetry,
    started: false,
    outputs,
    state: completion.after,
    stateStale: false,
    payloadBytes:
      outputs === item.outputs ? item.payloadBytes : item.payloadBytes + approximateJsonBytes(outputs[item.stepId]),
  };
}

/** About the bytes of a value as JSON text (string length for strings): what a new output adds to a carried item. */
function approximateJsonBytes(value: unknown): number {
  if (typeof value === 'string') return value.length + 2;
  return JSON.stringify(value ?? null).length;
}
