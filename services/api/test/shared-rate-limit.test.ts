import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from '@sagaflow/db/testing';
import { ADMIN_TOKEN, buildTestApp, makeDefinition } from './helpers.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `sagaflow-test:${randomUUID()}:`;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
const clients: Redis[] = [];
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
  for (let i = 0; i < 2; i += 1) {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    clients.push(redis);
    apps.push(
      buildTestApp(
        testDb.db,
        { redis, rateLimitKeyPrefix: prefix },
        { ADMIN_RATE_LIMIT_MAX: '3', ADMIN_RATE_LIMIT_WINDOW_MS: '60000', REDIS_URL },
      ),
    );
  }
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  const keys = (await clients[0]?.keys(`${prefix}*`)) ?? [];
  if (keys.length > 0) await clients[0]?.del(...keys);
  await Promise.all(clients.map((redis) => redis.quit()));
  await testDb?.drop();
});

describe('admin rate limit with REDIS_URL', () => {
  it('two API instances share one budget per client', async () => {
    const definition = makeDefinition();
    const register = (app: FastifyInstance) =>
      app.inject({
        method: 'POST',
        url: '/v1/admin/workflows',
        headers: { 'x-admin-token': ADMIN_TOKEN },
        payload: definition,
      });
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    expect((await register(a)).statusCode).toBe(201);
    expect((await register(b)).statusCode).toBe(200);
    expect((await register(a)).statusCode).toBe(200);
    const refusedB = await register(b);
    const refusedA = await register(a);
    for (const refused of [refusedA, refusedB]) {
      expect(refused.statusCode).toBe(429);
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
  });

  it('counts wrong-token guesses in Redis, under the configured key prefix, before the token check', async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    const guess = (app: FastifyInstance) =>
      app.inject({
        method: 'POST',
        url: '/v1/admin/workflows',
        headers: { 'x-admin-token': 'wrong-guess' },
        payload: makeDefinition(),
        remoteAddress: '198.51.100.77',
      });
    expect((await guess(a)).statusCode).toBe(401);
    expect((await guess(b)).statusCode).toBe(401);
    expect((await guess(a)).statusCode).toBe(401);
    const refused = await guess(b);
    expect(refused.statusCode).toBe(429);
    expect(JSON.parse(refused.body)).toEqual({ code: 'TOO_MANY_REQUESTS', message: expect.any(String) });
    expect(await clients[0]!.get(`${prefix}198.51.100.77`)).toBe('4');
    expect(await clients[0]!.pttl(`${prefix}198.51.100.77`)).toBeGreaterThan(0);
  });

  it('/ready names the Redis check', async () => {
    const response = await apps[0]!.inject({ method: 'GET', url: '/ready' });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });
});
