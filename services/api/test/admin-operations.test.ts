import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createClient, SagaFlowError, type SagaFlowClient } from '@sagaflow/client';
import { BULK_ACTIONS, processOperationBatch, reserveOperationBatch } from '@sagaflow/db';
import { createTestDatabase } from '@sagaflow/db/testing';
import { sql } from 'kysely';
import { ADMIN_TOKEN, buildTestApp, makeDefinition } from './helpers.js';

/** Bulk operations' routes (docs/api.md#bulk-operations) through the SDK, over HTTP, against a real database. */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
let client: SagaFlowClient;
let anonymous: SagaFlowClient;
let baseUrl: string;
const definition = makeDefinition();
const runIds: string[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db);
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  client = createClient({ baseUrl, adminToken: ADMIN_TOKEN });
  anonymous = createClient({ baseUrl });
  await client.admin.workflows.register(definition as never);
  for (let i = 0; i < 4; i++) {
    const started = await client.workflows.start(definition.name, {
      input: { i },
      context: { tenant: i < 3 ? 'acme' : 'other' },
    });
    runIds.push(started.runId);
  }
  await client.runs.cancel(runIds[0]!);
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

async function refusal(call: Promise<unknown>): Promise<SagaFlowError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SagaFlowError);
  return error as SagaFlowError;
}

/** Processes an operation to the end in this process, as an engine would (bypassing the rate). */
async function drain(operationId: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await sql`update operations set next_run_at = now() where id = ${operationId}`.execute(testDb.db);
    const reservation = await reserveOperationBatch(testDb.db, 100);
    if (!reservation) return;
    await processOperationBatch(testDb.db, reservation, BULK_ACTIONS);
  }
}

describe('POST /v1/admin/operations', () => {
  it('dry run: 200 with matched, eligible and a sample of eligible runs; nothing is created', async () => {
    const dry = await client.admin.operations.create({
      action: 'cancel',
      filter: { context: { tenant: 'acme' } },
      dryRun: true,
    });
    expect(dry).toEqual({ dryRun: true, matched: 3, eligible: 2, sample: [runIds[2], runIds[1]] });
    const byStatus = await client.admin.operations.create({
      action: 'cancel',
      filter: { status: ['CANCELLED', 'CANCELLING'], workflowName: definition.name },
      dryRun: true,
    });
    expect(byStatus).toMatchObject({ matched: 1, eligible: 0, sample: [] });
    expect((await client.admin.operations.list()).items).toEqual([]);
  });

  it('400 for an empty filter, an unknown filter key, an empty containment, a rate out of 1–1000, an unknown action', async () => {
    const bodies: unknown[] = [
      { action: 'cancel', filter: {} },
      { action: 'cancel' },
      { action: 'cancel', filter: { statuses: ['FAILED'] } },
      { action: 'cancel', filter: { status: [] } },
      { action: 'cancel', filter: { context: {} } },
      { action: 'cancel', filter: { status: ['FAILED'] }, ratePerSecond: 0 },
      { action: 'cancel', filter: { status: ['FAILED'] }, ratePerSecond: 1001 },
      { action: 'cancel', filter: { status: ['FAILED'] }, ratePerSecond: '50' },
      { action: 'delete', filter: { status: ['FAILED'] } },
      { action: 'cancel', filter: { status: ['FAILED'] }, extra: true },
    ];
    for (const body of bodies) {
      const error = await refusal(client.admin.operations.create(body as never));
      expect(error.status, JSON.stringify(body)).toBe(400);
      expect(error.code).toBe('BAD_REQUEST');
    }
    const empty = await refusal(client.admin.operations.create({ action: 'cancel', filter: {} }));
    expect(JSON.stringify(empty.issues)).toMatch(/filter is empty/);
  });

  it('400 naming the field for a date Postgres cannot store (year 0000, an offset past ±14:00), dry run or not', async () => {
    for (const field of ['createdAfter', 'createdBefore']) {
      for (const value of ['0000-01-01T00:00:00Z', '2030-01-01T00:00:00+16:00', '9999-12-31T23:00:00-02:00']) {
        for (const dryRun of [true, false]) {
          const body = { action: 'cancel', filter: { [field]: value }, dryRun };
          const error = await refusal(client.admin.operations.create(body as never));
          expect({ body, status: error.status, code: error.code }).toEqual({ body, status: 400, code: 'BAD_REQUEST' });
          expect(error.issues).toEqual([
            expect.objectContaining({ path: ['filter', field], message: expect.stringMatching(`^${field} must be`) }),
          ]);
        }
      }
    }
    expect((await client.admin.operations.list()).items).toEqual([]);
    const widest = await client.admin.operations.create({
      action: 'cancel',
      filter: { createdAfter: '0001-01-01T00:00:00Z', createdBefore: '9999-12-31T23:59:59Z' },
      dryRun: true,
    });
    expect(widest).toMatchObject({ dryRun: true, matched: 4 });
  });

  it('401 without the admin token, on every operations endpoint', async () => {
    const id = '0190a0a0-0000-7000-8000-000000000000';
    for (const call of [
      anonymous.admin.operations.create({ action: 'cancel', filter: { status: ['PENDING'] } }),
      anonymous.admin.operations.get(id),
      anonymous.admin.operations.list(),
      anonymous.admin.operations.cancel(id),
    ]) {
      expect((await refusal(call)).status).toBe(401);
    }
  });

  it('202 with operationId and matched; get shows progress until COMPLETED; each run acted on once', async () => {
    const created = await client.admin.operations.create({
      action: 'cancel',
      filter: { context: { tenant: 'acme' } },
      ratePerSecond: 1000,
      reason: 'tenant offboarded',
    });
    expect(created).toEqual({ operationId: expect.any(String) as unknown, matched: 3 });
    const running = await client.admin.operations.get(created.operationId);
    expect(running).toMatchObject({
      operationId: created.operationId,
      action: 'cancel',
      status: 'RUNNING',
      filter: { context: { tenant: 'acme' } },
      reason: 'tenant offboarded',
      ratePerSecond: 1000,
      total: 3,
      succeeded: 0,
      skipped: 0,
      failed: 0,
      errors: [],
      finishedAt: null,
    });
    await drain(created.operationId);
    const done = await client.admin.operations.get(created.operationId);
    expect(done).toMatchObject({ status: 'COMPLETED', total: 3, succeeded: 2, skipped: 1, failed: 0 });
    expect(done.finishedAt).not.toBeNull();
    for (const runId of [runIds[1]!, runIds[2]!]) {
      const { events } = await client.runs.events(runId);
      const actions = events.filter((e) => e.type === 'OPERATOR_ACTION');
      expect(actions.map((e) => e.data)).toEqual([
        { action: 'cancel', reason: 'tenant offboarded', operationId: created.operationId },
      ]);
      expect((await client.runs.get(runId)).run.status).toBe('CANCELLED');
    }
    expect((await client.runs.get(runIds[3]!)).run.status).toBe('PENDING');
    // a completed operation cannot be cancelled
    const conflict = await refusal(client.admin.operations.cancel(created.operationId));
    expect(conflict.status).toBe(409);
  });
});

describe('GET /v1/admin/operations and cancel', () => {
  it('lists newest first with an opaque cursor; a tampered cursor is a 400', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { operationId } = await client.admin.operations.create({
        action: 'cancel',
        filter: { context: { tenant: 'nobody' } },
      });
      ids.push(operationId);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await client.admin.operations.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...result.items.map((o) => o.operationId));
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    expect(seen.slice(0, 3)).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    for (const bad of ['nope', Buffer.from('op1:not-a-uuid').toString('base64url'), 'x'.repeat(300)]) {
      expect((await refusal(client.admin.operations.list({ cursor: bad }))).status).toBe(400);
    }
    expect((await refusal(client.admin.operations.list({ limit: 0 }))).status).toBe(400);
  });

  it('cancel: 202 and CANCELLED, again a no-op 202; no run is acted on after it; unknown ids 404', async () => {
    const { operationId, matched } = await client.admin.operations.create({
      action: 'cancel',
      filter: { context: { tenant: 'other' } },
    });
    expect(matched).toBe(1);
    expect(await client.admin.operations.cancel(operationId)).toEqual({ operationId, status: 'CANCELLED' });
    expect(await client.admin.operations.cancel(operationId)).toEqual({ operationId, status: 'CANCELLED' });
    await drain(operationId);
    const view = await client.admin.operations.get(operationId);
    expect(view).toMatchObject({ status: 'CANCELLED', total: 1, succeeded: 0 });
    expect((await client.runs.get(runIds[3]!)).run.status).toBe('PENDING');

    const unknown = '0190a0a0-0000-7000-8000-000000000000';
    expect((await refusal(client.admin.operations.get(unknown))).status).toBe(404);
    expect((await refusal(client.admin.operations.cancel(unknown))).status).toBe(404);
    expect((await refusal(client.admin.operations.get('not-a-uuid'))).status).toBe(400);
  });
});
