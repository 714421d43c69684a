import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { loadConfig } from '../src/env.js';
import { startServer, type RunningApi } from '../src/start-server.js';
import { ADMIN_TOKEN, makeDefinition } from './helpers.js';

/**
 * REDIS_URL set but Redis unreachable (a port nothing listens on): the API is not ready (503), and the admin
 * endpoints, whose rate limits count in Redis, still answer as they would without the limit — never a 500, and
 * at once rather than after the client's reconnection attempts (each request took 12–15 s and failed before).
 */

const REQUEST_BOUND_MS = 5_000;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let api: RunningApi;
const definition = makeDefinition();

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  api = await startServer(
    loadConfig({
      DATABASE_URL: testDb.url,
      REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
    }),
  );
});

afterAll(async () => {
  await api?.stop();
  await testDb?.drop();
});

/** A request that must be answered within REQUEST_BOUND_MS (the abort fails the test instead of hanging it). */
function call(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${api.url}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
}

function register(token: string | undefined): Promise<Response> {
  return call('/v1/admin/workflows', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { 'x-admin-token': token } : {}) },
    body: JSON.stringify(definition),
  });
}

describe('Redis unreachable', () => {
  it('/ready answers 503 naming redis', async () => {
    const response = await call('/ready');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ checks: { postgres: 'ok', redis: 'error' } });
  });

  it('an admin request with the token is served (201, then 200 identical), without the rate limit', async () => {
    expect((await register(ADMIN_TOKEN)).status).toBe(201);
    expect((await register(ADMIN_TOKEN)).status).toBe(200);
  });

  it('a wrong or missing admin token is a 401 with the error body, not a 500', async () => {
    for (const token of ['wrong-token', undefined]) {
      const response = await register(token);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
    }
  });

  it('pausing a workflow is served too', async () => {
    const response = await call(`/v1/admin/workflows/${definition.name}/pause`, {
      method: 'POST',
      headers: { 'x-admin-token': ADMIN_TOKEN },
    });
    expect(response.status).toBe(202);
  });
});
