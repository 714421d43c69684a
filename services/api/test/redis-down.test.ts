import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDefinition } from '@sagaflow/db';
import { createTestDatabase } from '@sagaflow/db/testing';
import { findFreePort } from '@sagaflow/local-postgres';
import { waitFor } from '@sagaflow/testkit';
import type { WorkflowDefinition } from '@sagaflow/definitions';
import { loadConfig } from '../src/env.js';
import { startServer, type RunningApi } from '../src/start-server.js';
import { ADMIN_TOKEN, makeDefinition } from './helpers.js';

/**
 * REDIS_URL set but Redis unreachable (a port nothing listens on): the API is not ready (503); the admin endpoints,
 * whose rate limit counts in Redis, answer 503 with Retry-After at once (never served uncounted, never a 500: before,
 * each took 12–15 s and failed with a 500); the other endpoints are served.
 */

const REQUEST_BOUND_MS = 5_000;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let api: RunningApi;
const definition = makeDefinition();

beforeAll(async () => {
  testDb = await createTestDatabase();
  // straight into the database: the admin endpoint is refused while Redis is down
  await registerDefinition(testDb.db, definition as WorkflowDefinition);
  api = await startServer(
    loadConfig({
      DATABASE_URL: testDb.url,
      // a port that was free a moment ago: nothing listens there
      REDIS_URL: `redis://127.0.0.1:${await findFreePort()}`,
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
    }),
  );
  // the client's first connection attempt has failed (refused at once on loopback): from then on Redis is known lost
  await waitFor(
    async () =>
      (
        await call('/v1/admin/workflows/no-such-workflow/pause', {
          method: 'POST',
          headers: { 'x-admin-token': ADMIN_TOKEN },
        })
      ).status === 503,
    { timeoutMs: 10_000, description: 'the admin endpoints refused while Redis is unreachable' },
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

  it('an admin request answers 503 with Retry-After, whatever its token', async () => {
    for (const token of [ADMIN_TOKEN, 'wrong-token', undefined]) {
      const response = await register(token);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('Redis') });
    }
  });

  it('a non-admin endpoint is served: a start is accepted', async () => {
    const response = await call(`/v1/workflows/${definition.name}/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: {} }),
    });
    expect(response.status).toBe(202);
  });
});
