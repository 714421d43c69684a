import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryRateLimiter, createRedisRateLimiter, decideRateLimit } from '../src/rate-limit.js';
import { isAdminTokenValid } from '../src/admin-token.js';

describe('decideRateLimit', () => {
  it('allows up to max, then refuses with whole seconds to wait (at least 1)', () => {
    const policy = { max: 2, windowMs: 10_000 };
    expect(decideRateLimit(policy, 1, 9_500)).toEqual({ allowed: true, remaining: 1, retryAfterSeconds: 10 });
    expect(decideRateLimit(policy, 2, 9_500)).toEqual({ allowed: true, remaining: 0, retryAfterSeconds: 10 });
    expect(decideRateLimit(policy, 3, 1_001)).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 2 });
    expect(decideRateLimit(policy, 3, 0)).toMatchObject({ retryAfterSeconds: 1 });
  });
});

describe('createMemoryRateLimiter', () => {
  it('counts per client key in fixed windows', async () => {
    let now = 1_000;
    const limiter = createMemoryRateLimiter({ max: 1, windowMs: 1_000 }, () => now);
    expect((await limiter.hit('a')).allowed).toBe(true);
    expect((await limiter.hit('b')).allowed).toBe(true);
    expect(await limiter.hit('a')).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
    now += 1_000;
    expect((await limiter.hit('a')).allowed).toBe(true);
  });
});

describe('createRedisRateLimiter', () => {
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  const prefix = `sagaflow-test:${randomUUID()}:`;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('shares one budget between limiters with the same prefix and sets the window expiry', async () => {
    const policy = { max: 2, windowMs: 5_000 };
    const one = createRedisRateLimiter(redis, policy, prefix);
    const two = createRedisRateLimiter(redis, policy, prefix);
    expect((await one.hit('client')).allowed).toBe(true);
    expect((await two.hit('client')).allowed).toBe(true);
    const refused = await one.hit('client');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(5);
    expect(await redis.pttl(`${prefix}client`)).toBeGreaterThan(0);
    expect((await two.hit('other-client')).allowed).toBe(true);
  });
});

describe('isAdminTokenValid', () => {
  it('accepts only the exact token, of any length, and nothing when no token is configured', () => {
    expect(isAdminTokenValid('s3cret-token-value', 's3cret-token-value')).toBe(true);
    expect(isAdminTokenValid('s3cret-token-value', 's3cret-token-valuE')).toBe(false);
    expect(isAdminTokenValid('s3cret-token-value', 's3cret')).toBe(false);
    expect(isAdminTokenValid('s3cret-token-value', undefined)).toBe(false);
    expect(isAdminTokenValid(undefined, '')).toBe(false);
  });
});
