import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, SagaFlowError } from '@sagaflow/client';
import { createTestDatabase } from '@sagaflow/db/testing';
import { keyIdOf } from '../src/api-keys.js';
import { buildApp } from '../src/app.js';
import { ADMIN_TOKEN, buildTestApp, json, makeDefinition, registerDefinition, testConfig } from './helpers.js';
import { createCapturedApiLogger } from './observability/log-capture.js';

/** SAGAFLOW_API_KEYS end to end through the SDK (docs/security.md): keys, roles, idempotency scopes, the limit. */

const KEY_A = 'client-a-key-0123456789abcdef';
const KEY_B = 'client-b-key-0123456789abcdef';
const KEY_OPERATOR = 'operator-key-0123456789abcdef';
const API_KEYS = `client:${KEY_A},client:${KEY_B},operator:${KEY_OPERATOR}`;

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
let baseUrl: string;
const definition = makeDefinition();
const others: FastifyInstance[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db, {}, { SAGAFLOW_API_KEYS: API_KEYS });
  await registerDefinition(app, definition);
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await Promise.all([app, ...others].map((a) => a?.close()));
  await testDb?.drop();
});

async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof SagaFlowError) return error.status;
    throw error;
  }
}

describe('GET /v1/whoami', () => {
  it('says the role of the credential sent, and that keys are required; none or a wrong key → 401', async () => {
    expect(await createClient({ baseUrl, apiKey: KEY_A }).whoami()).toEqual({ role: 'client', keysEnabled: true });
    expect(await createClient({ baseUrl, apiKey: KEY_OPERATOR }).whoami()).toEqual({
      role: 'operator',
      keysEnabled: true,
    });
    expect(await createClient({ baseUrl, adminToken: ADMIN_TOKEN }).whoami()).toEqual({
      role: 'admin',
      keysEnabled: true,
    });
    expect(await statusOf(createClient({ baseUrl }).whoami())).toBe(401);
    expect(await statusOf(createClient({ baseUrl, apiKey: 'wrong-key-0123456789abcdef' }).whoami())).toBe(401);
  });

  it('without SAGAFLOW_API_KEYS: anonymous (the open endpoints), admin with the admin token', async () => {
    const open = buildTestApp(testDb.db);
    others.push(open);
    const url = await open.listen({ host: '127.0.0.1', port: 0 });
    expect(await createClient({ baseUrl: url }).whoami()).toEqual({ role: 'anonymous', keysEnabled: false });
    expect(await createClient({ baseUrl: url, adminToken: ADMIN_TOKEN }).whoami()).toEqual({
      role: 'admin',
      keysEnabled: false,
    });
    // a bearer key means nothing without keys configured: still anonymous
    expect(await createClient({ baseUrl: url, apiKey: KEY_A }).whoami()).toMatchObject({ role: 'anonymous' });
  });
});

describe('API keys through the SDK', () => {
  it('createClient({ apiKey }) sends the bearer key; none → 401, a role too low → 403', async () => {
    const a = createClient({ baseUrl, apiKey: KEY_A });
    const operator = createClient({ baseUrl, apiKey: KEY_OPERATOR });
    const anonymous = createClient({ baseUrl });
    const wrong = createClient({ baseUrl, apiKey: 'wrong-key-0123456789abcdef' });
    const { runId } = await a.workflows.start(definition.name, { input: { orderId: 'o-1' } });
    expect((await a.runs.get(runId)).run.status).toBe('PENDING');
    expect(await statusOf(anonymous.runs.get(runId))).toBe(401);
    expect(await statusOf(wrong.runs.get(runId))).toBe(401);
    expect(await statusOf(a.runs.cancel(runId))).toBe(403);
    expect(await statusOf(a.admin.workflows.register(makeDefinition() as never))).toBe(403);
    expect((await operator.runs.cancel(runId)).status).toBe('CANCELLED');
    expect((await a.runs.get(runId)).run.status).toBe('CANCELLED');
  });

  it('the event stream (runs.watch) needs the key too', async () => {
    const a = createClient({ baseUrl, apiKey: KEY_A });
    const { runId } = await a.workflows.start(definition.name, { input: { orderId: 'o-2' } });
    const stop = new AbortController();
    const seen: string[] = [];
    for await (const event of a.runs.watch(runId, { signal: stop.signal })) {
      seen.push(event.type);
      stop.abort();
    }
    expect(seen).toEqual(['RUN_CREATED']);
    const anonymous = createClient({ baseUrl });
    const refused = anonymous.runs.watch(runId, { maxReconnects: 0 });
    await expect(refused.next()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('scopes idempotency keys per API key: no collision, no replay across keys', async () => {
    const a = createClient({ baseUrl, apiKey: KEY_A });
    const b = createClient({ baseUrl, apiKey: KEY_B });
    const idempotencyKey = `order-${randomUUID()}`;
    const body = { input: { orderId: 'o-3' } };
    const runA = await a.workflows.start(definition.name, body, { idempotencyKey });
    const runB = await b.workflows.start(definition.name, body, { idempotencyKey });
    expect(runB.runId).not.toBe(runA.runId);
    // each key replays its own run, and only its own
    expect((await a.workflows.start(definition.name, body, { idempotencyKey })).runId).toBe(runA.runId);
    expect((await b.workflows.start(definition.name, body, { idempotencyKey })).runId).toBe(runB.runId);
    // a different body is a conflict in the key's own scope only
    expect(
      await statusOf(a.workflows.start(definition.name, { input: { orderId: 'other' } }, { idempotencyKey })),
    ).toBe(409);
    const onlyA = `only-a-${randomUUID()}`;
    await a.workflows.start(definition.name, { input: { orderId: 'x' } }, { idempotencyKey: onlyA });
    const bOwn = await b.workflows.start(definition.name, { input: { orderId: 'y' } }, { idempotencyKey: onlyA });
    expect(bOwn.status).toBe('PENDING');
    // the admin token is a credential of its own, with its own scope
    const started = await app.inject({
      method: 'POST',
      url: `/v1/workflows/${definition.name}/start`,
      headers: { 'x-admin-token': ADMIN_TOKEN, 'idempotency-key': idempotencyKey },
      payload: body,
    });
    expect(started.statusCode).toBe(202);
    expect([runA.runId, runB.runId]).not.toContain(json<{ runId: string }>(started).runId);

    const rows = await testDb.db
      .selectFrom('workflow_runs')
      .select(['id', 'idempotency_scope'])
      .where('idempotency_key', '=', idempotencyKey)
      .orderBy('created_at')
      .execute();
    expect(rows).toEqual([
      { id: runA.runId, idempotency_scope: keyIdOf(KEY_A) },
      { id: runB.runId, idempotency_scope: keyIdOf(KEY_B) },
      { id: json<{ runId: string }>(started).runId, idempotency_scope: keyIdOf(ADMIN_TOKEN) },
    ]);
  });

  it('without API keys, idempotency keys have one scope (null), as before', async () => {
    const open = buildTestApp(testDb.db);
    others.push(open);
    const idempotencyKey = `open-${randomUUID()}`;
    const start = (headers: Record<string, string>) =>
      open.inject({
        method: 'POST',
        url: `/v1/workflows/${definition.name}/start`,
        headers: { 'idempotency-key': idempotencyKey, ...headers },
        payload: { input: { orderId: 'o-4' } },
      });
    const first = json<{ runId: string }>(await start({}));
    const second = json<{ runId: string }>(await start({ 'x-admin-token': ADMIN_TOKEN }));
    expect(second.runId).toBe(first.runId);
    const row = await testDb.db
      .selectFrom('workflow_runs')
      .select('idempotency_scope')
      .where('id', '=', first.runId)
      .executeTakeFirstOrThrow();
    expect(row.idempotency_scope).toBeNull();
  });
});

/**
 * A GET over real HTTP with `headers` as raw name/value pairs, so a header can be sent twice (Node's server keeps only
 * the first `authorization` in `request.headers`).
 */
function rawGet(url: string, headers: string[]): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    // raw pairs get no default Host header
    const req = httpRequest(url, { method: 'GET', headers: ['host', new URL(url).host, ...headers] }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a credential header sent twice', () => {
  const bearer = (key: string) => ['authorization', `Bearer ${key}`];

  it('two authorization headers are a 401, whatever their order and even if both are right (API keys on)', async () => {
    const url = `${baseUrl}/v1/whoami`;
    expect((await rawGet(url, bearer(KEY_A))).status).toBe(200);
    for (const headers of [
      [...bearer(KEY_A), ...bearer('wrong-key-0123456789abcdef')],
      [...bearer('wrong-key-0123456789abcdef'), ...bearer(KEY_A)],
      [...bearer(KEY_A), ...bearer(KEY_A)],
      [...bearer(KEY_OPERATOR), 'Authorization', `Bearer ${KEY_A}`],
      [...bearer(KEY_A), 'x-admin-token', ADMIN_TOKEN, ...bearer('wrong')],
    ]) {
      const answer = await rawGet(url, headers);
      expect({ headers, status: answer.status }).toEqual({ headers, status: 401 });
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    // the event stream checks the same way
    const stream = await rawGet(`${baseUrl}/v1/runs/${randomUUID()}/events/stream`, [
      ...bearer(KEY_A),
      ...bearer('wrong'),
    ]);
    expect(stream.status).toBe(401);
  });

  it('without API keys an authorization header is not read, however many; x-admin-token twice is still a 401', async () => {
    const open = buildTestApp(testDb.db);
    others.push(open);
    const url = await open.listen({ host: '127.0.0.1', port: 0 });
    const twice = [...bearer('one'), ...bearer('two')];
    expect((await rawGet(`${url}/v1/runs/${randomUUID()}`, twice)).status).toBe(404);
    expect((await rawGet(`${url}/v1/admin/operations`, [...twice, 'x-admin-token', ADMIN_TOKEN])).status).toBe(200);
    const tokens = ['x-admin-token', ADMIN_TOKEN, 'x-admin-token', ADMIN_TOKEN];
    expect((await rawGet(`${url}/v1/admin/operations`, tokens)).status).toBe(401);
  });

  it('counts against the failed-credential budget like a wrong key', async () => {
    const limited = buildTestApp(
      testDb.db,
      {},
      {
        SAGAFLOW_API_KEYS: API_KEYS,
        ADMIN_RATE_LIMIT_MAX: '3',
        ADMIN_RATE_LIMIT_WINDOW_MS: '60000',
      },
    );
    others.push(limited);
    const url = `${await limited.listen({ host: '127.0.0.1', port: 0 })}/v1/runs/${randomUUID()}`;
    for (let i = 0; i < 3; i++)
      expect((await rawGet(url, [...bearer(KEY_A), ...bearer(`guess-${i}`)])).status).toBe(401);
    const refused = await rawGet(url, bearer(KEY_A));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});

describe('failed credential checks are rate limited', () => {
  function limitedApp(deps: Parameters<typeof buildTestApp>[1] = {}, env: Record<string, string> = {}) {
    const limited = buildTestApp(testDb.db, deps, {
      SAGAFLOW_API_KEYS: API_KEYS,
      ADMIN_RATE_LIMIT_MAX: '3',
      ADMIN_RATE_LIMIT_WINDOW_MS: '60000',
      ...env,
    });
    others.push(limited);
    return limited;
  }
  const get = (target: FastifyInstance, key: string) =>
    target.inject({ method: 'GET', url: `/v1/runs/${randomUUID()}`, headers: { authorization: `Bearer ${key}` } });

  it('after the budget of wrong bearer keys, even the right key gets 429 with Retry-After', async () => {
    const limited = limitedApp();
    expect((await get(limited, KEY_A)).statusCode).toBe(404); // a valid key does not count
    for (let i = 0; i < 3; i++) expect((await get(limited, `wrong-guess-${i}`)).statusCode).toBe(401);
    const refused = await get(limited, KEY_A);
    expect(refused.statusCode).toBe(429);
    expect(json(refused)).toEqual({ code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/failed credential/) });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const stream = await limited.inject({
      method: 'GET',
      url: `/v1/runs/${randomUUID()}/events/stream`,
      headers: { authorization: `Bearer ${KEY_A}` },
    });
    expect(stream.statusCode).toBe(429);
    expect((await limited.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('with Redis, API instances share the budget', async () => {
    const prefix = `sagaflow-test:${randomUUID()}:`;
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    try {
      const [one, two] = [0, 1].map(() => limitedApp({ redis, rateLimitKeyPrefix: prefix })) as [
        FastifyInstance,
        FastifyInstance,
      ];
      expect((await get(one, 'wrong-1')).statusCode).toBe(401);
      expect((await get(two, 'wrong-2')).statusCode).toBe(401);
      expect((await get(one, 'wrong-3')).statusCode).toBe(401);
      expect((await get(two, KEY_OPERATOR)).statusCode).toBe(429);
      expect(await redis.keys(`${prefix}auth-failures:*`)).toHaveLength(1);
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });
});

describe('logs', () => {
  it('never contain a key; NODE_ENV=production without keys warns at start', async () => {
    const { logs, logger } = createCapturedApiLogger('debug');
    const production = buildApp({ db: testDb.db, logger, config: { ...testConfig(), nodeEnv: 'production' } });
    others.push(production);
    expect(logs.records().some((r) => r.level === 40 && /SAGAFLOW_API_KEYS not set/.test(String(r.msg)))).toBe(true);

    const keyed = buildApp({
      db: testDb.db,
      logger,
      config: testConfig({ SAGAFLOW_API_KEYS: API_KEYS, LOG_LEVEL: 'debug' }),
    });
    others.push(keyed);
    for (const key of [KEY_A, 'a-wrong-key-0123456789']) {
      await keyed.inject({
        method: 'POST',
        url: `/v1/runs/${randomUUID()}/cancel`,
        headers: { authorization: `Bearer ${key}` },
      });
    }
    expect(logs.records().filter((r) => r.msg === 'access refused')).toHaveLength(2);
    expect(logs.text()).not.toContain(KEY_A);
    expect(logs.text()).not.toContain('a-wrong-key');
  });
});
