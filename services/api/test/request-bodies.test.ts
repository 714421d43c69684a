import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { ADMIN_TOKEN, buildTestApp, makeDefinition, registerDefinition } from './helpers.js';

/**
 * Every JSON body of the API is an object with documented keys: anything else is a 400 with `{ code, message }`
 * naming the problem, after the access check — never accepted with the data silently dropped (an array spread into
 * the input, a misspelt `paylod`, 1e400 stored as null).
 */

const CLIENT_KEY = 'client-key-0123456789abcdef';
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
let keyed: FastifyInstance;
const definition = makeDefinition();

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db);
  keyed = buildTestApp(testDb.db, {}, { SAGAFLOW_API_KEYS: `client:${CLIENT_KEY}` });
  await registerDefinition(app, definition);
});

afterAll(async () => {
  await Promise.all([app, keyed].map((a) => a?.close()));
  await testDb?.drop();
});

function post(url: string, payload: string) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', 'x-admin-token': ADMIN_TOKEN },
    payload,
  });
}

async function startRun(): Promise<string> {
  const response = await post(`/v1/workflows/${definition.name}/start`, JSON.stringify({ input: {} }));
  expect(response.statusCode).toBe(202);
  return response.json<{ runId: string }>().runId;
}

describe('a body that is not a JSON object', () => {
  it('is a 400 on every endpoint that takes a body', async () => {
    const runId = await startRun();
    const urls = [
      `/v1/workflows/${definition.name}/start`,
      `/v1/runs/${runId}/signals/approval`,
      `/v1/runs/${runId}/redrive`,
      `/v1/runs/${runId}/pause`,
      `/v1/runs/${runId}/resume`,
      `/v1/runs/${runId}/cancel`,
      `/v1/admin/workflows/${definition.name}/pause`,
    ];
    for (const url of urls) {
      for (const body of ['[1,2,3]', '42', '"zz"', 'null', 'true', '[]']) {
        const response = await post(url, body);
        expect(response.statusCode, `${url} ${body}`).toBe(400);
        expect(response.json(), `${url} ${body}`).toEqual({
          code: 'BAD_REQUEST',
          message: 'request body must be a JSON object',
        });
      }
    }
    // none of them acted: the run is still PENDING and unpaused
    const run = await app.inject({ method: 'GET', url: `/v1/runs/${runId}` });
    expect(run.json()).toMatchObject({ run: { status: 'PENDING', paused: false } });
  });

  it('is refused after the access check: without a key it is a 401', async () => {
    const response = await keyed.inject({
      method: 'POST',
      url: `/v1/workflows/${definition.name}/start`,
      headers: { 'content-type': 'application/json' },
      payload: '[1]',
    });
    expect(response.statusCode).toBe(401);
  });
});

describe('a key the body does not document', () => {
  it('is a 400 naming it, on start, signal, pause, cancel and schedules', async () => {
    const runId = await startRun();
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['POST', `/v1/workflows/${definition.name}/start`, { input: {}, contxt: {} }],
      ['POST', `/v1/runs/${runId}/signals/approval`, { paylod: { approved: true } }],
      ['POST', `/v1/runs/${runId}/pause`, { reasn: 'typo' }],
      ['POST', `/v1/runs/${runId}/cancel`, { force: true }],
      [
        'PUT',
        '/v1/admin/schedules/nightly',
        { workflowName: definition.name, cron: '0 3 * * *', input: {}, timzone: 'UTC' },
      ],
    ];
    for (const [method, url, body] of cases) {
      const response = await app.inject({
        method,
        url,
        headers: { 'content-type': 'application/json', 'x-admin-token': ADMIN_TOKEN },
        payload: JSON.stringify(body),
      });
      expect(response.statusCode, url).toBe(400);
      const error = response.json<{ code: string; issues: Array<{ code: string; keys?: string[] }> }>();
      expect(error.code, url).toBe('BAD_REQUEST');
      expect(error.issues, url).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys' }));
    }
  });
});

describe('start', () => {
  it('refuses a version that is not semver (400), not "not registered" (404)', async () => {
    const response = await post(
      `/v1/workflows/${definition.name}/start`,
      JSON.stringify({ input: {}, version: 'latest' }),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.stringify(response.json())).toContain('is not semver');
  });

  it('refuses a number JavaScript cannot hold instead of storing it as null', async () => {
    const response = await post(`/v1/workflows/${definition.name}/start`, '{"input":{"x":1e400}}');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      code: 'BAD_REQUEST',
      message: 'request body must not hold a number beyond the range of a double (such as 1e400)',
    });
  });

  it('says why a __proto__ key is refused', async () => {
    const response = await post(`/v1/workflows/${definition.name}/start`, '{"input":{"__proto__":{"x":1}}}');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      code: 'BAD_REQUEST',
      message: 'request body must not use the keys __proto__ or constructor.prototype',
    });
  });
});

describe('cancel { reason }', () => {
  it('keeps the reason in CANCEL_REQUESTED', async () => {
    const runId = await startRun();
    const response = await post(`/v1/runs/${runId}/cancel`, JSON.stringify({ reason: 'customer called' }));
    expect(response.statusCode).toBe(202);
    const events = await app.inject({ method: 'GET', url: `/v1/runs/${runId}/events` });
    expect(events.json<{ events: unknown[] }>().events).toContainEqual(
      expect.objectContaining({ type: 'CANCEL_REQUESTED', data: { reason: 'customer called' } }),
    );
  });
});
