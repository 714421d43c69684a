import type { ClaimedItem, CompletionOutcome } from '@sagaflow/db';
import { TERMINAL_RUN_STATUSES, type RunStatus } from '@sagaflow/saga';
import type { Level, Logger } from 'pino';
import type { EngineMetrics } from './metrics.js';
import type { AttemptOutcome } from './run-attempt.js';

/** How loud a run transition is: a run that gives up is an error, one that starts unwinding a warning. */
export function transitionLevel(to: RunStatus): Level {
  if (to === 'FAILED') return 'error';
  if (to === 'COMPENSATING') return 'warn';
  return 'info';
}

/**
 * Logs and counts a committed completion: each attempt outcome, each retry scheduled (with its delay) and each
 * run transition exactly once. `log` is the item's child logger (correlationId, runId, workflowName, stepId,
 * kind, attemptNo are bound).
 */
export function recordCompletion(
  log: Logger,
  metrics: EngineMetrics | undefined,
  item: ClaimedItem,
  outcome: AttemptOutcome,
  completion: CompletionOutcome,
): void {
  const { result, attempt, durationMs } = outcome;
  const what = item.kind === 'action' ? 'step' : 'compensation';
  const httpStatus = attempt?.httpStatus ?? undefined;
  if (attempt) {
    metrics?.stepAttempts.inc({ stepId: item.stepId, status: attempt.outcome });
    if (durationMs !== undefined) metrics?.stepLatency.observe(durationMs);
  }
  if (result.outcome === 'SUCCEEDED') {
    // outputs can be large: only at debug
    const output = log.isLevelEnabled('debug') ? { output: result.output } : {};
    log.info({ httpStatus, durationMs, ...output }, `${what} attempt succeeded`);
  } else if (result.outcome === 'RETRYABLE') {
    metrics?.stepRetries.inc({ stepId: item.stepId, attemptType: item.kind });
    const retryInMs =
      typeof result.error['retryInMs'] === 'number' ? result.error['retryInMs'] : result.retryAt.getTime() - Date.now();
    log.warn(
      { httpStatus, durationMs, error: result.error, retryInMs, retryAt: result.retryAt },
      `${what} attempt failed; retry scheduled`,
    );
  } else if (result.outcome === 'WAITING') {
    const { wait } = result;
    if (result.began)
      log.info({ waitFor: wait.for, until: wait.until, signal: wait.signal ?? undefined }, 'step waiting');
  } else {
    // a step failing is a business outcome the saga handles; a compensation failing needs an operator
    const level = item.kind === 'compensation' ? 'error' : 'warn';
    // what the commit did with the item (an exhausted compensation is parked too), not what the attempt asked for
    const parked = completion.plan.item.type === 'park';
    log[level]({ httpStatus, durationMs, error: result.error, parked }, `${what} failed permanently`);
  }

  const next = completion.plan.run;
  if (next && next.status !== completion.before.status) {
    log[transitionLevel(next.status)](
      { from: completion.before.status, to: next.status, error: next.error ?? undefined },
      'run transition',
    );
    if (next.status === 'COMPLETED') metrics?.runsCompleted.inc();
    if (next.status === 'FAILED') metrics?.runsFailed.inc();
    if (next.status === 'COMPENSATED') metrics?.runsCompensated.inc();
    if (TERMINAL_RUN_STATUSES.includes(next.status)) {
      const seconds = (Date.now() - completion.before.createdAt.getTime()) / 1000;
      metrics?.runDuration.observe({ workflowName: item.run.workflowName, status: next.status }, seconds);
    }
  }
}
