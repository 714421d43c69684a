import { describe, expect, it } from 'vitest';
import {
  DEFAULT_COMPENSATION_RETRY_POLICY,
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  backoffDelayMs,
  resolveRetryPolicy,
  type RetryPolicy,
} from '../src/index.js';

const ALMOST_ONE = 0.9999999999;

function policy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    maxAttempts: 5,
    initialIntervalMs: 200,
    backoffCoefficient: 2,
    maxIntervalMs: 30_000,
    jitter: 'none',
    ...overrides,
  };
}

describe('defaults', () => {
  it('match docs/contract.md#definitions', () => {
    expect(DEFAULT_TIMEOUT_MS).toBe(10_000);
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 5,
      initialIntervalMs: 200,
      backoffCoefficient: 2,
      maxIntervalMs: 30_000,
      jitter: 'full',
    });
    expect(DEFAULT_COMPENSATION_RETRY_POLICY).toEqual({ ...DEFAULT_RETRY_POLICY, maxAttempts: 10 });
  });

  it('cannot be changed by accident', () => {
    expect(Object.isFrozen(DEFAULT_RETRY_POLICY)).toBe(true);
    expect(Object.isFrozen(DEFAULT_COMPENSATION_RETRY_POLICY)).toBe(true);
  });
});

describe('resolveRetryPolicy', () => {
  it('uses the defaults of the kind when nothing is set', () => {
    expect(resolveRetryPolicy(undefined, 'action')).toEqual(DEFAULT_RETRY_POLICY);
    expect(resolveRetryPolicy({}, 'compensation')).toEqual(DEFAULT_COMPENSATION_RETRY_POLICY);
  });

  it('keeps every field that is set, including zeros', () => {
    expect(resolveRetryPolicy({ maxAttempts: 3, initialIntervalMs: 0 }, 'compensation')).toEqual({
      ...DEFAULT_COMPENSATION_RETRY_POLICY,
      maxAttempts: 3,
      initialIntervalMs: 0,
    });
    const full = {
      maxAttempts: 2,
      initialIntervalMs: 50,
      backoffCoefficient: 3,
      maxIntervalMs: 1000,
      jitter: 'equal' as const,
    };
    expect(resolveRetryPolicy(full, 'action')).toEqual(full);
  });

  it('returns a fresh object', () => {
    const resolved = resolveRetryPolicy(undefined, 'action');
    resolved.maxAttempts = 99;
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBe(5);
  });
});

describe('backoffDelayMs', () => {
  it('grows by the coefficient without jitter: 200, 400, 800, 1600', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(policy(), n))).toEqual([200, 400, 800, 1600]);
  });

  it('caps at maxIntervalMs, also for huge attempt numbers', () => {
    expect(backoffDelayMs(policy({ maxIntervalMs: 1000 }), 4)).toBe(1000);
    expect(backoffDelayMs(policy({ maxIntervalMs: 1000 }), 10)).toBe(1000);
    expect(
      backoffDelayMs(policy({ backoffCoefficient: 10, initialIntervalMs: 3_600_000, maxIntervalMs: 86_400_000 }), 100),
    ).toBe(86_400_000);
    expect(backoffDelayMs(policy({ backoffCoefficient: 10 }), 5000)).toBe(30_000);
  });

  it('is zero when the initial interval or the cap is zero', () => {
    expect(backoffDelayMs(policy({ initialIntervalMs: 0, backoffCoefficient: 10 }), 1000)).toBe(0);
    expect(backoffDelayMs(policy({ maxIntervalMs: 0, jitter: 'full' }), 3, () => ALMOST_ONE)).toBe(0);
  });

  it('rounds fractional growth to whole milliseconds', () => {
    expect(backoffDelayMs(policy({ initialIntervalMs: 100, backoffCoefficient: 1.5 }), 2)).toBe(150);
    expect(backoffDelayMs(policy({ initialIntervalMs: 3, backoffCoefficient: 1.5 }), 2)).toBe(5); // 4.5 → 5
  });

  it('full jitter is uniform in [0, d]', () => {
    const full = policy({ jitter: 'full' });
    expect(backoffDelayMs(full, 2, () => 0)).toBe(0);
    expect(backoffDelayMs(full, 2, () => 0.5)).toBe(200);
    expect(backoffDelayMs(full, 2, () => ALMOST_ONE)).toBe(400);
  });

  it('equal jitter is d/2 plus uniform [0, d/2]', () => {
    const equal = policy({ jitter: 'equal' });
    expect(backoffDelayMs(equal, 2, () => 0)).toBe(200);
    expect(backoffDelayMs(equal, 2, () => 0.5)).toBe(300);
    expect(backoffDelayMs(equal, 2, () => ALMOST_ONE)).toBe(400);
    expect(backoffDelayMs(policy({ jitter: 'equal', initialIntervalMs: 5 }), 1, () => 0)).toBe(2);
    expect(backoffDelayMs(policy({ jitter: 'equal', initialIntervalMs: 5 }), 1, () => ALMOST_ONE)).toBe(5);
  });

  it('no jitter ignores random', () => {
    expect(backoffDelayMs(policy(), 3, () => 0)).toBe(800);
    expect(backoffDelayMs(policy(), 3, () => ALMOST_ONE)).toBe(800);
  });

  it('jitter stays within the cap and is an integer', () => {
    const capped = policy({ jitter: 'full', maxIntervalMs: 1000 });
    for (const r of [0, 0.1, 0.5, ALMOST_ONE, 1]) {
      const delay = backoffDelayMs(capped, 20, () => r);
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(1000);
    }
  });

  it('uses Math.random by default and stays in range', () => {
    for (let i = 0; i < 100; i += 1) {
      const delay = backoffDelayMs(DEFAULT_RETRY_POLICY, 3);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(800);
    }
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects failedAttemptNo %s', (n) => {
    expect(() => backoffDelayMs(policy(), n)).toThrow(RangeError);
  });
});
