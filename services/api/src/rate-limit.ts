import type { FastifyInstance } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { toErrorBody } from './errors.js';

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

/**
 * Limits every route registered in `scope` after this call (register it in the admin routes' own scope). With Redis,
 * once its connection is lost the admin endpoints answer 503 at once until it is back (/ready is 503 too); only a
 * request caught between the loss and its notice is served uncounted (skipOnError below).
 */
export async function registerAdminRateLimit(scope: FastifyInstance, options: AdminRateLimitOptions): Promise<void> {
  const { redis } = options;
  if (redis) {
    // lost from the first closed connection until one is ready again (ioredis' own `status` passes through
    // `connecting` at every reconnection attempt), not while the first connection is being made
    let lost = false;
    redis.on('close', () => (lost = true));
    redis.on('ready', () => (lost = false));
    // before the limiter's own hook: it would wait for Redis, then fail the request with a 500
    scope.addHook('onRequest', (_request, reply, done) => {
      if (!lost) {
        done();
        return;
      }
      void reply
        .code(503)
        .header('retry-after', '5')
        .send(
          toErrorBody(
            'SERVICE_UNAVAILABLE',
            'the admin rate limit cannot be counted: Redis is unreachable; retry shortly',
          ),
        );
    });
  }
  await scope.register(fastifyRateLimit, {
    global: true,
    hook: 'onRequest',
    max: options.policy.max,
    timeWindow: options.policy.windowMs,
    // Redis lost between the check above and the count: that one request is served uncounted rather than failed (500)
    skipOnError: true,
    ...(options.redis
      ? { redis: options.redis, nameSpace: options.nameSpace ?? DEFAULT_ADMIN_RATE_LIMIT_NAMESPACE }
      : {}),
    errorResponseBuilder: (_request, context) => rateLimitedError(Math.max(1, Math.ceil(context.ttl / 1000))),
  });
}
