import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, SagaFlowError, type RunSummary, type SagaFlowClient } from '@sagaflow/client';
import { definitionChecksum } from '@sagaflow/definitions';
import { createTestDatabase } from '@sagaflow/db/testing';
import { ADMIN_TOKEN, buildTestApp, makeDefinition } from './helpers.js';

/** GET /v1/runs, /v1/runs/counts, /v1/workflows and /v1/workflows/{name}/versions/{version}, through the SDK. */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
let client: SagaFlowClient;
let base: string;
const orders = makeDefinition({ name: `orders-${randomUUID().slice(0, 6)}`, description: 'Orders v1' });
const refunds = makeDefinition({ name: `refunds-${randomUUID().slice(0, 6)}` });

/** The state an engine leaves when a run fails at `stepId` (or is compensated), set directly on the row. */
async function endRun(runId: string, status: 'FAILED' | 'COMPENSATED', code: string, stepId: string): Promise<void> {
  const error = JSON.stringify({ code, message: 'declined', stepId });
  await testDb.db.deleteFrom('outbox').where('run_id', '=', runId).execute();
  await testDb.db
    .updateTable('workflow_runs')
    .set({ status, error, completed_at: new Date() })
    .where('id', '=', runId)
    .execute();
}

async function setCreatedAt(runId: string, at: string): Promise<void> {
  await testDb.db
    .updateTable('workflow_runs')
    .set({ created_at: new Date(at) })
    .where('id', '=', runId)
    .execute();
}

async function start(
  name: string,
  body: { input?: Record<string, unknown>; context?: Record<string, unknown> } = {},
  options: { idempotencyKey?: string; correlationId?: string } = {},
): Promise<string> {
  const started = await client.workflows.start(name, { input: body.input ?? { n: 1 }, context: body.context }, options);
  return started.runId;
}

const ids = (items: RunSummary[]): string[] => items.map((r) => r.runId);

async function expectBadRequest(promise: Promise<unknown>, message?: RegExp): Promise<SagaFlowError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SagaFlowError);
  expect((error as SagaFlowError).status).toBe(400);
  expect((error as SagaFlowError).code).toBe('BAD_REQUEST');
  if (message) expect((error as SagaFlowError).message).toMatch(message);
  return error as SagaFlowError;
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db);
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  client = createClient({ baseUrl: base, adminToken: ADMIN_TOKEN });
  await client.admin.workflows.register(orders as never);
  await client.admin.workflows.register(refunds as never);
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

describe('GET /v1/workflows', () => {
  it('lists every workflow with its versions in semver order, the latest and its description', async () => {
    const name = `semver-${randomUUID().slice(0, 6)}`;
    for (const [version, description] of [
      ['1.10.0', 'ten'],
      ['1.2.0', 'two'],
      ['1.9.0-beta.1', 'beta'],
      ['1.9.0', 'nine'],
    ] as const) {
      await client.admin.workflows.register(makeDefinition({ name, version, description }) as never);
    }
    const items = await client.workflows.list();
    expect(items.find((w) => w.name === name)).toEqual({
      name,
      latestVersion: '1.10.0',
      versions: ['1.2.0', '1.9.0-beta.1', '1.9.0', '1.10.0'],
      description: 'ten',
      paused: false,
    });
    expect(items.find((w) => w.name === refunds.name)).toMatchObject({ versions: ['1.0.0'], description: null });
    const names = items.map((w) => w.name);
    expect(names).toEqual([...names].sort());
  });

  it('returns a definition exactly as registered, with its sha256 and registration time', async () => {
    const before = Date.now();
    const definition = makeDefinition({ name: `exact-${randomUUID().slice(0, 6)}`, version: '2.0.0' });
    await client.admin.workflows.register(definition as never);
    const found = await client.workflows.get(definition.name, '2.0.0');
    expect(found.definition).toEqual(definition);
    // no defaults filled in: the step has no retry policy, timeout or headers because none was sent
    expect(Object.keys(found.definition.steps[0]!).sort()).toEqual(['compensation', 'id', 'request']);
    expect(found.sha256).toBe(definitionChecksum(definition as never));
    expect(Date.parse(found.registeredAt)).toBeGreaterThanOrEqual(before - 5_000);
  });

  it('404 for an unknown name or version, 400 for an invalid name', async () => {
    for (const [name, version] of [
      [orders.name, '9.9.9'],
      ['no-such-workflow', '1.0.0'],
    ]) {
      const error = await client.workflows.get(name!, version!).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SagaFlowError);
      expect((error as SagaFlowError).status).toBe(404);
      expect((error as SagaFlowError).code).toBe('NOT_FOUND');
    }
    await expectBadRequest(client.workflows.get('Not A Name', '1.0.0'));
  });
});

describe('GET /v1/runs filters', () => {
  const tenant = `acme-${randomUUID().slice(0, 6)}`;
  let plain: string;
  let failed: string;
  let compensated: string;
  let keyed: string;
  let correlated: string;
  const key = `key-${randomUUID()}`;
  const correlationId = `corr-${randomUUID()}`;

  beforeAll(async () => {
    plain = await start(orders.name, {
      input: { customer: { id: 'c-1', tier: 'gold' } },
      context: { tenantId: tenant },
    });
    failed = await start(orders.name, {
      input: { customer: { id: 'c-2' } },
      context: { tenantId: tenant, region: 'eu' },
    });
    compensated = await start(refunds.name);
    keyed = await start(refunds.name, {}, { idempotencyKey: key });
    correlated = await start(refunds.name, {}, { correlationId });
    await endRun(failed, 'FAILED', 'STEP_FAILED', 'charge-payment');
    await endRun(compensated, 'COMPENSATED', 'DELIVERY_EXHAUSTED', 'send-email');
    // known creation times for the range filters
    await setCreatedAt(plain, '2031-01-01T00:00:00.000Z');
    await setCreatedAt(failed, '2031-01-02T00:00:00.000Z');
  });

  it('each filter alone returns exactly the matching runs, newest first, as RunSummary', async () => {
    const cases: Array<[Parameters<SagaFlowClient['runs']['list']>[0], string[]]> = [
      [{ status: 'FAILED' }, [failed]],
      [{ status: ['COMPENSATED', 'FAILED'] }, [failed, compensated]],
      [{ workflowName: orders.name }, [failed, plain]],
      [{ workflowName: refunds.name, workflowVersion: '1.0.0' }, [correlated, keyed, compensated]],
      [{ correlationId }, [correlated]],
      [{ idempotencyKey: key }, [keyed]],
      [{ errorCode: 'DELIVERY_EXHAUSTED' }, [compensated]],
      [{ stepId: 'charge-payment' }, [failed]],
      [{ createdAfter: '2031-01-01T00:00:00.000Z', createdBefore: '2031-01-02T00:00:00.000Z' }, [plain]],
      [{ createdAfter: new Date('2031-01-01T00:00:00.001Z') }, [failed]],
      [{ context: { tenantId: tenant } }, [failed, plain]],
      [{ context: { tenantId: tenant, region: 'eu' } }, [failed]],
      [{ input: { customer: { tier: 'gold' } } }, [plain]],
      [{ workflowName: orders.name, context: {} }, [failed, plain]],
      [{ workflowName: orders.name, status: 'PENDING', context: { tenantId: tenant } }, [plain]],
    ];
    for (const [filters, expected] of cases) {
      const page = await client.runs.list(filters);
      expect({ filters, ids: ids(page.items) }).toEqual({ filters, ids: expected });
      expect(page.nextCursor).toBeNull();
    }
    const [summary] = (await client.runs.list({ status: 'FAILED', workflowName: orders.name })).items;
    expect(summary).toEqual({
      runId: failed,
      workflowName: orders.name,
      workflowVersion: '1.0.0',
      status: 'FAILED',
      error: { code: 'STEP_FAILED', message: 'declined', stepId: 'charge-payment' },
      correlationId: expect.any(String) as string,
      paused: false,
      createdAt: '2031-01-02T00:00:00.000Z',
      updatedAt: expect.any(String) as string,
      completedAt: expect.any(String) as string,
    });
  });

  it('paused: the run flag in RunSummary, the workflow flag in GET /v1/workflows', async () => {
    await client.runs.pause(plain, { reason: 'search test' });
    await client.admin.workflows.pause(refunds.name, { reason: 'search test' });
    try {
      const items = (await client.runs.list({ workflowName: orders.name })).items;
      expect(items.map((r) => [r.runId, r.paused])).toEqual([
        [failed, false],
        [plain, true],
      ]);
      const workflows = await client.workflows.list();
      expect(workflows.find((w) => w.name === refunds.name)?.paused).toBe(true);
      expect(workflows.find((w) => w.name === orders.name)?.paused).toBe(false);
    } finally {
      await client.runs.resume(plain);
      await client.admin.workflows.resume(refunds.name);
    }
    expect(
      (await client.runs.list({ correlationId: (await client.runs.get(plain)).run.correlationId })).items[0]?.paused,
    ).toBe(false);
  });

  it('counts: total and every status, with the same filters', async () => {
    const counts = await client.runs.counts({ context: { tenantId: tenant } });
    expect(counts).toEqual({
      total: 2,
      byStatus: {
        PENDING: 1,
        RUNNING: 0,
        COMPENSATING: 0,
        CANCELLING: 0,
        COMPLETED: 0,
        COMPENSATED: 0,
        FAILED: 1,
        CANCELLED: 0,
      },
    });
    const refundCounts = await client.runs.counts({ workflowName: refunds.name, status: ['COMPENSATED', 'PENDING'] });
    expect(refundCounts.total).toBe(3);
    expect(refundCounts.byStatus).toMatchObject({ COMPENSATED: 1, PENDING: 2, FAILED: 0 });
    const none = await client.runs.counts({ correlationId: 'nobody' });
    expect(none.total).toBe(0);
    expect(Object.values(none.byStatus)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('400 for bad filters, never 500', async () => {
    const raw = async (query: string): Promise<{ status: number; body: { code: string; message: string } }> => {
      const response = await fetch(`${base}/v1/runs?${query}`);
      return { status: response.status, body: (await response.json()) as { code: string; message: string } };
    };
    for (const query of [
      'status=NOPE',
      'status=FAILED,nope',
      'input=not-json',
      'input=%5B1%2C2%5D',
      'context=42',
      'context=null',
      'limit=0',
      'limit=501',
      'limit=ten',
      'createdAfter=yesterday',
      'errorCode=OOPS',
      'workflowName=Bad%20Name',
      'cursor=%25%25%25',
    ]) {
      const { status, body } = await raw(query);
      expect({ query, status, code: body.code }).toEqual({ query, status: 400, code: 'BAD_REQUEST' });
    }
    const counts = await fetch(`${base}/v1/runs/counts?input=%7B`);
    expect(counts.status).toBe(400);
  });

  it('a date filter Postgres cannot store (year 0000, an offset past ±14:00) is a 400 naming the field, never a 500', async () => {
    type Body = { code: string; message: string; issues?: Array<{ path: string[]; message: string }> };
    const raw = async (path: string, query: Record<string, string>): Promise<{ status: number; body: Body }> => {
      const response = await fetch(`${base}${path}?${new URLSearchParams(query)}`);
      return { status: response.status, body: (await response.json()) as Body };
    };
    for (const path of ['/v1/runs', '/v1/runs/counts']) {
      for (const field of ['createdAfter', 'createdBefore']) {
        for (const value of [
          '0000-01-01T00:00:00Z',
          '0000-12-31T23:00:00-10:00',
          '0001-01-01T00:00:00+01:00', // the year 1 as written, 1 BC in UTC
          '9999-12-31T23:00:00-02:00', // the year 10000 in UTC
          '2030-01-01T00:00:00+16:00',
          '2030-01-01T00:00:00-23:59',
        ]) {
          const { status, body } = await raw(path, { [field]: value });
          expect({ path, field, value, status, code: body.code }).toEqual({
            path,
            field,
            value,
            status: 400,
            code: 'BAD_REQUEST',
          });
          expect(body.message).toEqual(expect.any(String));
          expect(body.issues).toEqual([
            expect.objectContaining({ path: [field], message: expect.stringMatching(new RegExp(`^${field} must be`)) }),
          ]);
        }
        for (const value of ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z', '2030-01-01T00:00:00+14:00']) {
          const { status } = await raw(path, { [field]: value });
          expect({ path, field, value, status }).toEqual({ path, field, value, status: 200 });
        }
      }
    }
  });
});

describe('GET /v1/runs pages', () => {
  let workflow: string;
  let initial: string[];

  beforeAll(async () => {
    const definition = makeDefinition({ name: `pages-${randomUUID().slice(0, 6)}` });
    workflow = definition.name;
    await client.admin.workflows.register(definition as never);
    initial = [];
    for (let i = 0; i < 5; i++) {
      // group-committed starts share one created_at: the id orders them
      initial.push(...(await Promise.all(Array.from({ length: 12 }, () => start(workflow)))));
    }
  });

  it('walks every run once in (createdAt desc, runId desc) order; the last page has no cursor', async () => {
    const seen: RunSummary[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.runs.list({ workflowName: workflow, limit: 7, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items);
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil(initial.length / 7));
    expect(ids(seen).sort()).toEqual([...initial].sort());
    const rows = await testDb.db
      .selectFrom('workflow_runs')
      .select('id')
      .where('workflow_name', '=', workflow)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    expect(ids(seen)).toEqual(rows.map((r) => r.id));
    // ties on createdAt exist (a group commit), so the order within them is the id's
    expect(new Set(seen.map((r) => r.createdAt)).size).toBeLessThan(seen.length);
  });

  it('listAll iterates over every page', async () => {
    const all: string[] = [];
    for await (const run of client.runs.listAll({ workflowName: workflow, pageSize: 9 })) all.push(run.runId);
    expect(all.sort()).toEqual([...initial].sort());
  });

  it('is complete and duplicate-free while runs are being started', async () => {
    let starting = true;
    const startedMeanwhile: string[] = [];
    const starter = (async () => {
      while (starting) startedMeanwhile.push(...(await Promise.all([start(workflow), start(workflow)])));
    })();
    const walked: string[] = [];
    try {
      for await (const run of client.runs.listAll({ workflowName: workflow, pageSize: 5 })) walked.push(run.runId);
    } finally {
      starting = false;
      await starter;
    }
    expect(startedMeanwhile.length).toBeGreaterThan(0);
    expect(new Set(walked).size).toBe(walked.length);
    for (const runId of initial) expect(walked).toContain(runId);
    // anything else it returned was started during the walk
    for (const runId of walked.filter((r) => !initial.includes(r))) expect(startedMeanwhile).toContain(runId);
    initial.push(...startedMeanwhile);
  });

  it('400 for a cursor reused with other filters, or tampered with', async () => {
    const first = await client.runs.list({ workflowName: workflow, limit: 3 });
    const cursor = first.nextCursor!;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    // the same filters with another page size is fine
    const second = await client.runs.list({ workflowName: workflow, limit: 5, cursor });
    const firstEight = await client.runs.list({ workflowName: workflow, limit: 8 });
    expect(ids(second.items)).toEqual(ids(firstEight.items).slice(3, 8));

    await expectBadRequest(client.runs.list({ workflowName: orders.name, limit: 3, cursor }), /other filters/);
    await expectBadRequest(client.runs.list({ workflowName: workflow, status: 'PENDING', cursor }), /other filters/);
    // a changed position (a forged run id) no longer matches the cursor's check digest
    const payload = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Record<string, string>;
    const forged = Buffer.from(JSON.stringify({ ...payload, i: randomUUID() })).toString('base64url');
    await expectBadRequest(client.runs.list({ workflowName: workflow, cursor: forged }), /malformed cursor/);
    const edited = cursor.slice(0, 10) + (cursor[10] === 'A' ? 'B' : 'A') + cursor.slice(11);
    await expectBadRequest(client.runs.list({ workflowName: workflow, cursor: edited }), /malformed cursor/);
    await expectBadRequest(client.runs.list({ workflowName: workflow, cursor: 'e30' }), /malformed cursor/);
  });
});

describe('statement timeout', () => {
  it('a search or count past SEARCH_STATEMENT_TIMEOUT_MS is a 503 QUERY_TIMEOUT, quickly', async () => {
    const slowApp = buildTestApp(testDb.db, {}, { SEARCH_STATEMENT_TIMEOUT_MS: '200' });
    const slowBase = await slowApp.listen({ host: '127.0.0.1', port: 0 });
    const slow = createClient({ baseUrl: slowBase });
    // a transaction holding an exclusive lock on workflow_runs makes every read wait: the timeout cancels the wait
    const locker = new pg.Client({ connectionString: testDb.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table workflow_runs in access exclusive mode');
      for (const call of [() => slow.runs.list({ status: 'FAILED' }), () => slow.runs.counts({})]) {
        const started = Date.now();
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SagaFlowError);
        expect((error as SagaFlowError).status).toBe(503);
        expect((error as SagaFlowError).code).toBe('QUERY_TIMEOUT');
        expect((error as SagaFlowError).message).toMatch(/longer than 200 ms/);
        expect(Date.now() - started).toBeLessThan(5_000);
      }
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    // the lock released, the same API answers again
    expect((await slow.runs.counts({})).total).toBeGreaterThan(0);
    await slowApp.close();
  });
});
