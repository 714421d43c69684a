import type { RetryPolicyInput } from './schema.js';

/** A retry policy with every field set (docs/contract.md#retry-policy, #backoff). */
export interface RetryPolicy {
  maxAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maxIntervalMs: number;
  jitter: 'full' | 'equal' | 'none';
}

/** Per-attempt timeout when a step or compensation sets none. */
export const DEFAULT_TIMEOUT_MS = 10_000;

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  initialIntervalMs: 200,
  backoffCoefficient: 2,
  maxIntervalMs: 30_000,
  jitter: 'full',
});

export const DEFAULT_COMPENSATION_RETRY_POLICY: RetryPolicy = Object.freeze({
  ...DEFAULT_RETRY_POLICY,
  maxAttempts: 10,
});

/** Fills the fields a definition leaves out with the defaults for an action or a compensation. */
export function resolveRetryPolicy(input: RetryPolicyInput | undefined, kind: 'action' | 'compensation'): RetryPolicy {
  const defaults = kind === 'compensation' ? DEFAULT_COMPENSATION_RETRY_POLICY : DEFAULT_RETRY_POLICY;
  return {
    maxAttempts: input?.maxAttempts ?? defaults.maxAttempts,
    initialIntervalMs: input?.initialIntervalMs ?? defaults.initialIntervalMs,
    backoffCoefficient: input?.backoffCoefficient ?? defaults.backoffCoefficient,
    maxIntervalMs: input?.maxIntervalMs ?? defaults.maxIntervalMs,
    jitter: input?.jitter ?? defaults.jitter,
  };
}

/** Uniform integer in [0, max], from `random` in [0, 1) (clamped, so a sloppy 1 still stays in range). */
function pickUniform(max: number, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.min(max, Math.floor(r * (max + 1)));
}

/**
 * Delay before attempt n+1, after attempt n (1-based) failed retryably:
 * d = min(maxIntervalMs, initial * coeff^(n-1)) rounded to whole ms, then jitter
 * full = uniform [0, d], equal = floor(d/2) + uniform [0, d - floor(d/2)], none = d.
 * `random` returns [0, 1) (Math.random by default). Throws RangeError when n is not an integer >= 1.
 */
export function backoffDelayMs(
  policy: RetryPolicy,
  failedAttemptNo: number,
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(failedAttemptNo) || failedAttemptNo < 1) {
    throw new RangeError(`failedAttemptNo must be an integer >= 1, got ${failedAttemptNo}`);
  }
  const growth =
    policy.initialIntervalMs === 0 ? 0 : policy.initialIntervalMs * policy.backoffCoefficient ** (failedAttemptNo - 1);
  const delay = Math.round(Math.min(policy.maxIntervalMs, growth));
  switch (policy.jitter) {
    case 'none':
      return delay;
    case 'full':
      return pickUniform(delay, random);
    case 'equal': {
      const fixed = Math.floor(delay / 2);
      return fixed + pickUniform(delay - fixed, random);
    }
  }
}
