import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createDb, createPool } from '@sagaflow/db';
import { createTestDatabase } from '@sagaflow/db/testing';
import { ADMIN_TOKEN, buildTestApp, json, makeDefinition, registerDefinition, startRun } from './helpers.js';

// Cases the fault suite's fuzzers found answering 500: each must be a clear 4xx (or 503) with nothing written.
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
const definition = makeDefinition({ name: 'unstorable' });

async function countRuns(): Promise<number> {
  const row = await testDb.db
    .selectFrom('workflow_runs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db);
  await registerDefinition(app, definition);
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

describe('input Postgres or recursive validation cannot take', () => {
  it('a lone UTF-16 surrogate in input is a 400, not a 500', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/v1/workflows/${definition.name}/start`,
      headers: { 'content-type': 'application/json' },
      payload: '{"input":{"s":"\\ud800"}}',
    });
    expect(response.statusCode).toBe(400);
    expect(json(response)).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('surrogate') });
    expect(await countRuns()).toBe(0);
  });

  it('a lone surrogate in a key, and a NUL, are 400 too', async () => {
    for (const payload of ['{"input":{"\\udc00":1}}', '{"input":{"s":"a\\u0000b"}}']) {
      const response = await app.inject({
        method: 'POST',
        url: `/v1/workflows/${definition.name}/start`,
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode).toBe(400);
    }
    expect(await countRuns()).toBe(0);
  });

  it('nesting 5,000 levels deep is a 400; 50 levels is accepted', async () => {
    const payload = `{"input":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    const deep = await app.inject({
      method: 'POST',
      url: `/v1/workflows/${definition.name}/start`,
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expect(deep.statusCode).toBe(400);
    expect(json(deep)).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('deeper than') });
    expect(await countRuns()).toBe(0);
    const fine = await startRun(app, definition.name, { input: nested(50) as object });
    expect(fine.statusCode).toBe(202);
  });

  it('a definition with a string or array where a number belongs is a 400, not coerced', async () => {
    const bad = makeDefinition({ name: 'coercion' }) as { steps: Array<Record<string, unknown>> };
    bad.steps[0]!['timeoutMs'] = '100';
    bad.steps[0]!['retry'] = { maxAttempts: [3] };
    const response = await app.inject({
      method: 'POST',
      url: '/v1/admin/workflows',
      headers: { 'x-admin-token': ADMIN_TOKEN },
      payload: bad,
    });
    expect(response.statusCode).toBe(400);
    const issues = json<{ issues: Array<{ path: unknown[] }> }>(response).issues;
    expect(issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['steps.0.timeoutMs', 'steps.0.retry.maxAttempts']),
    );
    const stored = await testDb.db
      .selectFrom('workflow_definitions')
      .select('name')
      .where('name', '=', 'coercion')
      .execute();
    expect(stored).toHaveLength(0);
  });
});

describe('the database unreachable', () => {
  it('a start answers 503 SERVICE_UNAVAILABLE, never 500', async () => {
    const pool = createPool('postgres://postgres@127.0.0.1:1/postgres', { connectionTimeoutMillis: 1000 });
    const deadApp = buildTestApp(createDb(pool));
    try {
      const response = await startRun(deadApp, definition.name);
      expect(response.statusCode).toBe(503);
      expect(json(response)).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.any(String) });
    } finally {
      await deadApp.close();
      await pool.end();
    }
  });
});
