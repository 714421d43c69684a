import type { Redis } from 'ioredis';

/**
 * Fixed-window rate limits for the admin endpoints. With Redis, every API process counts against one
 * budget (an atomic INCR + PEXPIRE in a Lua script); without it, each process keeps its own in memory.
 */

export interface RateLimitDecision {
  allowed: boolean;
  /** Requests left in the current window (0 when refused). */
  remaining: number;
  /** Whole seconds until the window resets (≥ 1); the `Retry-After` value when refused. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts one request for `clientKey` and says whether it may proceed. */
  hit(clientKey: string): Promise<RateLimitDecision>;
}

export interface RateLimitPolicy {
  max: number;
  windowMs: number;
}

/** The pure decision: given the count after this hit and the ms left in the window. */
export function decideRateLimit(policy: RateLimitPolicy, count: number, msLeft: number): RateLimitDecision {
  const retryAfterSeconds = Math.max(1, Math.ceil(msLeft / 1000));
  const allowed = count <= policy.max;
  return { allowed, remaining: allowed ? policy.max - count : 0, retryAfterSeconds };
}

/** In-process limiter: one fixed window per client key, expired windows swept as they are met. */
export function createMemoryRateLimiter(policy: RateLimitPolicy, now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const sweep = (at: number): void => {
    for (const [key, window] of windows) if (window.resetAt <= at) windows.delete(key);
  };
  return {
    hit(clientKey) {
      const at = now();
      let window = windows.get(clientKey);
      if (!window || window.resetAt <= at) {
        if (windows.size > 10_000) sweep(at);
        window = { count: 0, resetAt: at + policy.windowMs };
        windows.set(clientKey, window);
      }
      window.count += 1;
      return Promise.resolve(decideRateLimit(policy, window.count, window.resetAt - at));
    },
  };
}

/** KEYS[1] = window key, ARGV[1] = window ms. Returns { count, ms left }. */
const FIXED_WINDOW_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
`;

/** Shared limiter: all processes using the same Redis and `keyPrefix` draw from one budget per client key. */
export function createRedisRateLimiter(redis: Redis, policy: RateLimitPolicy, keyPrefix: string): RateLimiter {
  return {
    async hit(clientKey) {
      const reply = (await redis.eval(FIXED_WINDOW_SCRIPT, 1, `${keyPrefix}${clientKey}`, policy.windowMs)) as [
        number,
        number,
      ];
      return decideRateLimit(policy, Number(reply[0]), Number(reply[1]));
    },
  };
}
