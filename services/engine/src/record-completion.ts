import type { ClaimedItem, CompletionOutcome } from '@sagaflow/db';
import type { Logger } from 'pino';
import type { EngineMetrics } from './metrics.js';
import type { AttemptOutcome } from './run-attempt.js';

/** Logs and counts a committed completion: each attempt outcome, retry and run transition once. */
export function recordCompletion(log: Logger, metrics: EngineMetrics | undefined, item: ClaimedItem, outcome: AttemptOutcome, completion: CompletionOutcome): void {
  const { result, attempt, durationMs } = outcome;
  const what = item.kind === 'action' ? 'step' : 'compensation';
  if (attempt) {
    metrics?.stepAttempts.inc({ stepId: item.stepId, status: attempt.outcome });
    if (durationMs !== undefined) metrics?.stepLatency.observe(durationMs);
  }
  if (result.outcome === 'SUCCEEDED') {
    log.info({ httpStatus: attempt?.httpStatus, durationMs }, `${what} attempt succeeded`);
  } else if (result.outcome === 'RETRYABLE') {
    metrics?.stepRetries.inc({ stepId: item.stepId, attemptType: item.kind });
    log.warn({ error: result.error, retryInMs: result.retryAt.getTime() - Date.now(), retryAt: result.retryAt }, `${what} attempt failed; retry scheduled`);
  } else {
    log.error({ error: result.error, parked: result.park === true }, `${what} failed permanently`);
  }

  const next = completion.plan.run;
  if (next && next.status !== completion.before.status) {
    log.info({ from: completion.before.status, to: next.status, error: next.error ?? undefined }, 'run transition');
    const seconds = (Date.now() - completion.before.createdAt.getTime()) / 1000;
    if (next.status === 'COMPLETED') metrics?.runsCompleted.inc();
    if (next.status === 'FAILED') metrics?.runsFailed.inc();
    if (next.status === 'COMPENSATED') metrics?.runsCompensated.inc();
    if (['COMPLETED', 'FAILED', 'COMPENSATED', 'CANCELLED'].includes(next.status)) {
      metrics?.runDuration.observe({ workflowName: item.run.workflowName, status: next.status }, seconds);
    }
  }
}
