import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildTestApp, json, makeDefinition, registerDefinition, startRun } from './helpers.js';

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
const definition = makeDefinition();

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db);
  await registerDefinition(app, definition);
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

describe('POST /v1/workflows/{name}/start', () => {
  it('202 with { runId, status: PENDING } and a generated x-correlation-id', async () => {
    const response = await startRun(app, definition.name);
    expect(response.statusCode).toBe(202);
    const body = json(response);
    expect(body).toEqual({ runId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'PENDING' });
    expect(response.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    const run = await app.inject({ method: 'GET', url: `/v1/runs/${String(body.runId)}` });
    expect(json<{ run: { correlationId: string } }>(run).run.correlationId).toBe(response.headers['x-correlation-id']);
  });

  it('replaces an invalid x-correlation-id in responses, and refuses it on start (400)', async () => {
    const bad = 'x'.repeat(201);
    const health = await app.inject({ method: 'GET', url: '/health', headers: { 'x-correlation-id': bad } });
    expect(health.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    const start = await startRun(app, definition.name, { input: {} }, { 'x-correlation-id': bad });
    expect(start.statusCode).toBe(400);
  });

  it('echoes a given x-correlation-id and stores it on the run', async () => {
    const response = await startRun(app, definition.name, { input: {} }, { 'x-correlation-id': 'order-42-corr' });
    expect(response.statusCode).toBe(202);
    expect(response.headers['x-correlation-id']).toBe('order-42-corr');
    const run = await app.inject({ method: 'GET', url: `/v1/runs/${json(response).runId as string}` });
    expect(json<{ run: { correlationId: string } }>(run).run.correlationId).toBe('order-42-corr');
  });

  it('replays an idempotency key with the same body: 202, same runId, no second run', async () => {
    const headers = { 'idempotency-key': 'idem-same' };
    const first = await startRun(app, definition.name, { input: { orderId: 'a' } }, headers);
    const second = await startRun(app, definition.name, { input: { orderId: 'a' } }, headers);
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(json(second).runId).toBe(json(first).runId);
    const count = await testDb.db
      .selectFrom('workflow_runs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('idempotency_key', '=', 'idem-same')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('a replay answers what the first call did, 202 PENDING, whatever the run is now', async () => {
    const headers = { 'idempotency-key': 'idem-status' };
    const first = await startRun(app, definition.name, { input: { orderId: 's' } }, headers);
    const runId = json(first).runId as string;
    expect((await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` })).statusCode).toBe(202);
    const replayed = await startRun(app, definition.name, { input: { orderId: 's' } }, headers);
    expect(replayed.statusCode).toBe(202);
    expect(json(replayed)).toEqual({ runId, status: 'PENDING' });
  });

  it('a replay without x-correlation-id answers the run own id; with one, echoes it', async () => {
    const headers = { 'idempotency-key': 'idem-corr' };
    const first = await startRun(app, definition.name, { input: { orderId: 'c' } }, headers);
    const runCorrelationId = first.headers['x-correlation-id'];
    expect(runCorrelationId).toMatch(/^[0-9a-f-]{36}$/);
    const replayed = await startRun(app, definition.name, { input: { orderId: 'c' } }, headers);
    expect(json(replayed).runId).toBe(json(first).runId);
    expect(replayed.headers['x-correlation-id']).toBe(runCorrelationId);
    const otherId = await startRun(
      app,
      definition.name,
      { input: { orderId: 'c' } },
      {
        ...headers,
        'x-correlation-id': 'a-different-request',
      },
    );
    expect(otherId.headers['x-correlation-id']).toBe('a-different-request');
    const run = await app.inject({ method: 'GET', url: `/v1/runs/${json(first).runId as string}` });
    expect(json<{ run: { correlationId: string } }>(run).run.correlationId).toBe(runCorrelationId);
  });

  it('409 when an idempotency key is reused with a different body', async () => {
    const headers = { 'idempotency-key': 'idem-diff' };
    expect((await startRun(app, definition.name, { input: { orderId: 'a' } }, headers)).statusCode).toBe(202);
    const conflict = await startRun(app, definition.name, { input: { orderId: 'b' } }, headers);
    expect(conflict.statusCode).toBe(409);
    expect(json(conflict)).toEqual({ code: 'CONFLICT', message: expect.any(String) });
  });

  it('404 for an unknown workflow or version', async () => {
    const unknown = await startRun(app, 'no-such-workflow');
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown).code).toBe('NOT_FOUND');
    const version = await startRun(app, definition.name, { input: {}, version: '9.9.9' });
    expect(version.statusCode).toBe(404);
  });

  it('picks the highest semver version when version is omitted (1.10.0 beats 1.2.0)', async () => {
    const name = `semver-${definition.name}`;
    await registerDefinition(app, makeDefinition({ name, version: '1.2.0' }));
    await registerDefinition(app, makeDefinition({ name, version: '1.10.0' }));
    const response = await startRun(app, name);
    const run = await app.inject({ method: 'GET', url: `/v1/runs/${json(response).runId as string}` });
    expect(json<{ run: { workflowVersion: string } }>(run).run.workflowVersion).toBe('1.10.0');
  });

  it('400 with zod issues for an invalid body, and never a stack trace', async () => {
    const response = await startRun(app, definition.name, { input: 'not an object' });
    expect(response.statusCode).toBe(400);
    const body = json<{ code: string; message: string; issues: Array<{ path: unknown[] }> }>(response);
    expect(body.code).toBe('BAD_REQUEST');
    expect(body.issues[0]?.path).toEqual(['input']);
    expect(Object.keys(body).sort()).toEqual(['code', 'issues', 'message']);
    expect(response.body).not.toContain('stack');
  });

  it('400 for a missing body, an invalid name, or an invalid idempotency-key header', async () => {
    const empty = await app.inject({ method: 'POST', url: `/v1/workflows/${definition.name}/start` });
    expect(empty.statusCode).toBe(400);
    expect(json(empty).code).toBe('BAD_REQUEST');
    const badName = await startRun(app, 'Bad_Name');
    expect(badName.statusCode).toBe(400);
    const badKey = await startRun(app, definition.name, { input: {} }, { 'idempotency-key': 'x'.repeat(201) });
    expect(badKey.statusCode).toBe(400);
    expect(json<{ issues: Array<{ path: unknown[] }> }>(badKey).issues[0]?.path).toEqual(['idempotency-key']);
  });

  it('400, not 500, for input Postgres cannot store (NUL characters)', async () => {
    for (const payload of [{ input: { note: 'a\u0000b' } }, { input: {}, context: { 'k\u0000': 1 } }]) {
      const response = await startRun(app, definition.name, payload);
      expect(response.statusCode).toBe(400);
      expect(json(response).code).toBe('BAD_REQUEST');
    }
  });

  it('400 for invalid JSON', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/v1/workflows/${definition.name}/start`,
      headers: { 'content-type': 'application/json' },
      payload: '{"input": ',
    });
    expect(response.statusCode).toBe(400);
    expect(json(response)).toEqual({ code: 'BAD_REQUEST', message: expect.any(String) });
  });

  it('413 for a body over 1 MiB', async () => {
    const response = await startRun(app, definition.name, { input: { blob: 'x'.repeat(1_100_000) } });
    expect(response.statusCode).toBe(413);
    expect(json(response)).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
    expect(response.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('415 for a body that is not JSON', async () => {
    for (const contentType of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const response = await app.inject({
        method: 'POST',
        url: `/v1/workflows/${definition.name}/start`,
        headers: { 'content-type': contentType },
        payload: 'input=1',
      });
      expect(response.statusCode, contentType).toBe(415);
      expect(json(response)).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.any(String) });
    }
  });
});
