import type { FastifyInstance } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

/**
 * The admin rate limit: @fastify/rate-limit, a fixed window per client address. With Redis every API process
 * counts against one budget (the plugin's Redis store); without it each process counts in memory. It runs in
 * `onRequest`, before the body is read and before the admin token is checked, so wrong-token guesses count too.
 * Behind a proxy the client address comes from `X-Forwarded-For` only when TRUST_PROXY says so (Fastify's
 * `trustProxy`); otherwise every caller behind the proxy shares the proxy's budget.
 */

export interface RateLimitPolicy {
  max: number;
  windowMs: number;
}

export const DEFAULT_ADMIN_RATE_LIMIT_NAMESPACE = 'sagaflow:rate-limit:admin:';

export interface AdminRateLimitOptions {
  policy: RateLimitPolicy;
  /** shared budget across API instances; in memory per process without it */
  redis?: Redis;
  /** Redis key prefix (tests use a unique one) */
  nameSpace?: string;
}

/** A 429 for the app's error handler, which answers `{ code: 'TOO_MANY_REQUESTS', message }`. */
function rateLimitedError(retryAfterSeconds: number): Error {
  const error = new Error(`admin rate limit exceeded, retry in ${retryAfterSeconds} s`);
  return Object.assign(error, { statusCode: 429 });
}

/** Limits every route registered in `scope` after this call (register it in the admin routes' own scope). */
export async function registerAdminRateLimit(scope: FastifyInstance, options: AdminRateLimitOptions): Promise<void> {
  await scope.register(fastifyRateLimit, {
    global: true,
    hook: 'onRequest',
    max: options.policy.max,
    timeWindow: options.policy.windowMs,
    // a Redis outage must not fail the admin endpoints (a 500): they are served uncounted while Redis is unreachable,
    // as the failed-credential limiter does (access-control.ts); /ready answers 503 meanwhile
    skipOnError: true,
    ...(options.redis
      ? { redis: options.redis, nameSpace: options.nameSpace ?? DEFAULT_ADMIN_RATE_LIMIT_NAMESPACE }
      : {}),
    errorResponseBuilder: (_request, context) => rateLimitedError(Math.max(1, Math.ceil(context.ttl / 1000))),
  });
}
