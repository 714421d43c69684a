import { setTimeout as delay } from 'node:timers/promises';
import { SagaFlowError, type SagaFlowClient } from '@sagaflow/client';

/** What a client saw while it insisted on starting one run. */
export interface StartOutcome {
  key: string;
  /** the run id of the 202, when one came */
  runId?: string;
  /** every non-202 answer on the way, by HTTP status ('connection' for a failure below HTTP) */
  failures: Array<number | 'connection'>;
}

export interface StartWithRetryOptions {
  /** the client to use for each try (a function, so a restarted API with a new address is picked up) */
  client: () => SagaFlowClient;
  workflow: string;
  input: Record<string, unknown>;
  idempotencyKey: string;
  /** give up after this long */
  timeoutMs: number;
}

/**
 * A well-behaved client: starts a run with an idempotency key and retries on 5xx, 429 and connection-level
 * failures (safe, thanks to the key) until it gets its 202 or the time is up. Other 4xx end the loop.
 */
export async function startWithRetry(options: StartWithRetryOptions): Promise<StartOutcome> {
  const outcome: StartOutcome = { key: options.idempotencyKey, failures: [] };
  const deadline = Date.now() + options.timeoutMs;
  for (let wait = 50; Date.now() < deadline; wait = Math.min(wait * 2, 500)) {
    try {
      const started = await options
        .client()
        .workflows.start(options.workflow, { input: options.input }, { idempotencyKey: options.idempotencyKey });
      outcome.runId = started.runId;
      return outcome;
    } catch (error) {
      if (error instanceof SagaFlowError) {
        outcome.failures.push(error.status);
        if (error.status < 500 && error.status !== 429) return outcome;
      } else {
        outcome.failures.push('connection');
      }
    }
    await delay(wait);
  }
  return outcome;
}
