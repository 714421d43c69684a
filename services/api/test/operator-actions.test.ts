import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, SagaFlowError, type SagaFlowClient } from '@sagaflow/client';
import {
  cancelRunAction,
  isWorkflowPaused,
  listPausedWorkflows,
  pauseRun,
  readRunEvents,
  redriveRun,
  type Db,
} from '@sagaflow/db';
import { createTestDatabase } from '@sagaflow/db/testing';
import { loadConfig } from '../src/env.js';
import { startServer, type RunningApi } from '../src/start-server.js';
import { ADMIN_TOKEN, buildTestApp, makeDefinition } from './helpers.js';
import { createCapturedApiLogger } from './observability/log-capture.js';

/**
 * Redrive, pause/resume of a run and of a workflow (docs/api.md#operator-actions) through the SDK against a listening
 * API and a real database; no engine runs, so the states an engine would leave are written by row factories.
 */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let api: RunningApi;
let client: SagaFlowClient;
let anonymous: SagaFlowClient;
const definition = makeDefinition();
const UNKNOWN_RUN = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  testDb = await createTestDatabase();
  api = await startServer(
    loadConfig({
      DATABASE_URL: testDb.url,
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      ADMIN_RATE_LIMIT_MAX: '1000',
    }),
  );
  client = createClient({ baseUrl: api.url, adminToken: ADMIN_TOKEN });
  anonymous = createClient({ baseUrl: api.url });
  await client.admin.workflows.register(definition as never);
});

afterAll(async () => {
  await api?.stop();
  await testDb?.drop();
});

async function newRun(): Promise<string> {
  return (await client.workflows.start(definition.name, { input: { orderId: 'o-1' } })).runId;
}

/** Row factory: what an engine leaves when the first step fails permanently with nothing to compensate. */
async function failFirstStep(db: Db, runId: string): Promise<void> {
  const error = JSON.stringify({ code: 'STEP_FAILED', message: 'payments answered 422', stepId: 'charge-payment' });
  await db.deleteFrom('outbox').where('run_id', '=', runId).execute();
  await db
    .updateTable('run_steps')
    .set({ status: 'FAILED', attempts: 1, error, started_at: sql`now()`, finished_at: sql`now()` })
    .where('run_id', '=', runId)
    .where('step_id', '=', 'charge-payment')
    .execute();
  await db
    .updateTable('run_steps')
    .set({ status: 'SKIPPED' })
    .where('run_id', '=', runId)
    .where('step_id', '<>', 'charge-payment')
    .execute();
  await db
    .updateTable('workflow_runs')
    .set({ status: 'FAILED', error, completed_at: sql`now()`, updated_at: sql`now()` })
    .where('id', '=', runId)
    .execute();
}

/** Row factory: charge-payment succeeded, send-email failed, the refund failed: FAILED with COMPENSATION_FAILED. */
async function failCompensation(db: Db, runId: string): Promise<void> {
  await db.deleteFrom('outbox').where('run_id', '=', runId).execute();
  const stepError = JSON.stringify({ code: 'STEP_FAILED', message: 'email refused' });
  await db
    .updateTable('run_steps')
    .set({
      status: 'SUCCEEDED',
      attempts: 1,
      compensation_status: 'FAILED',
      compensation_attempts: 1,
      started_at: sql`now()`,
      finished_at: sql`now()`,
    })
    .where('run_id', '=', runId)
    .where('step_id', '=', 'charge-payment')
    .execute();
  await db
    .updateTable('run_steps')
    .set({ status: 'FAILED', attempts: 1, error: stepError, started_at: sql`now()`, finished_at: sql`now()` })
    .where('run_id', '=', runId)
    .where('step_id', '=', 'send-email')
    .execute();
  const error = JSON.stringify({ code: 'COMPENSATION_FAILED', message: 'refund refused', stepId: 'charge-payment' });
  await db
    .updateTable('workflow_runs')
    .set({ status: 'FAILED', error, completed_at: sql`now()`, updated_at: sql`now()` })
    .where('id', '=', runId)
    .execute();
}

async function rejection(promise: Promise<unknown>): Promise<SagaFlowError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SagaFlowError);
  return error as SagaFlowError;
}

async function lastEvents(runId: string, n: number) {
  return (await readRunEvents(testDb.db, runId, 0, 1000))!.events.slice(-n).map((e) => ({
    type: e.type,
    stepId: e.stepId,
    kind: e.kind,
    data: e.data,
  }));
}

describe('POST /v1/runs/{runId}/redrive', () => {
  it('202: a forward failure runs its failed step again, with OPERATOR_ACTION before the status change', async () => {
    const runId = await newRun();
    await failFirstStep(testDb.db, runId);
    expect(await client.runs.redrive(runId, { reason: 'payments fixed' })).toEqual({
      runId,
      stepId: 'charge-payment',
      kind: 'action',
      status: 'RUNNING',
    });
    const view = await client.runs.get(runId);
    expect(view.run).toMatchObject({ status: 'RUNNING', error: null, paused: false, completedAt: null });
    expect(view.steps.map((s) => s.status)).toEqual(['PENDING', 'PENDING']);
    expect(await lastEvents(runId, 2)).toEqual([
      {
        type: 'OPERATOR_ACTION',
        stepId: 'charge-payment',
        kind: 'action',
        data: { action: 'redrive', reason: 'payments fixed', operationId: null },
      },
      {
        type: 'RUN_STATUS_CHANGED',
        stepId: null,
        kind: null,
        data: { from: 'FAILED', to: 'RUNNING', error: null },
      },
    ]);
    const items = await testDb.db
      .selectFrom('outbox')
      .select(['step_index', 'kind'])
      .where('run_id', '=', runId)
      .execute();
    expect(items).toEqual([{ step_index: 0, kind: 'action' }]);
  });

  it('202: a COMPENSATION_FAILED run runs its failed compensation again (COMPENSATING)', async () => {
    const runId = await newRun();
    await failCompensation(testDb.db, runId);
    expect(await client.runs.redrive(runId)).toEqual({
      runId,
      stepId: 'charge-payment',
      kind: 'compensation',
      status: 'COMPENSATING',
    });
    const view = await client.runs.get(runId);
    expect(view.run).toMatchObject({ status: 'COMPENSATING', error: { code: 'STEP_FAILED', stepId: 'send-email' } });
    expect(view.steps[0]).toMatchObject({ compensationStatus: 'PENDING' });
    const [action] = await lastEvents(runId, 2);
    expect(action).toMatchObject({
      type: 'OPERATOR_ACTION',
      kind: 'compensation',
      data: { action: 'redrive', reason: null },
    });
  });

  it('409 with the reason when the run is not redrivable; nothing is written', async () => {
    const runId = await newRun();
    const error = await rejection(client.runs.redrive(runId));
    expect(error).toMatchObject({ status: 409, code: 'CONFLICT' });
    expect(error.message).toContain('only FAILED runs can be redriven');
    const view = await client.runs.get(runId);
    expect(view.run.status).toBe('PENDING');
    expect(await lastEvents(runId, 1)).toEqual([expect.objectContaining({ type: 'RUN_CREATED' })]);
  });

  it('404 for an unknown run, 400 for a malformed id or reason', async () => {
    expect(await rejection(client.runs.redrive(UNKNOWN_RUN))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(await rejection(client.runs.redrive('not-a-uuid'))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    const runId = await newRun();
    await failFirstStep(testDb.db, runId);
    expect(await rejection(client.runs.redrive(runId, { reason: 'x'.repeat(1001) }))).toMatchObject({ status: 400 });
    expect((await client.runs.get(runId)).run.status).toBe('FAILED');
  });
});

describe('POST /v1/runs/{runId}/pause and /resume', () => {
  it('pause → 202 paused (status kept), again a no-op 202; resume → 202, again a no-op 202; history has both', async () => {
    const runId = await newRun();
    expect(await client.runs.pause(runId, { reason: 'check the order' })).toEqual({
      runId,
      status: 'PENDING',
      paused: true,
    });
    expect((await client.runs.get(runId)).run).toMatchObject({ status: 'PENDING', paused: true });
    const held = await sql<{ held: boolean }>`
      select held_due_at is not null and due_at = 'infinity' as held from outbox where run_id = ${runId}
    `.execute(testDb.db);
    expect(held.rows).toEqual([{ held: true }]);
    expect(await client.runs.pause(runId)).toEqual({ runId, status: 'PENDING', paused: true });

    expect(await client.runs.resume(runId)).toEqual({ runId, status: 'PENDING', paused: false });
    expect((await client.runs.get(runId)).run.paused).toBe(false);
    const released = await sql<{ due: boolean }>`
      select held_due_at is null and due_at <= now() as due from outbox where run_id = ${runId}
    `.execute(testDb.db);
    expect(released.rows).toEqual([{ due: true }]);
    expect(await client.runs.resume(runId)).toEqual({ runId, status: 'PENDING', paused: false });

    expect(await lastEvents(runId, 2)).toEqual([
      {
        type: 'OPERATOR_ACTION',
        stepId: null,
        kind: null,
        data: { action: 'pause', reason: 'check the order', operationId: null },
      },
      {
        type: 'OPERATOR_ACTION',
        stepId: null,
        kind: null,
        data: { action: 'resume', reason: null, operationId: null },
      },
    ]);
  });

  it('a terminal run: pause is a 409, resume a no-op 202 with paused false', async () => {
    const runId = await newRun();
    await failFirstStep(testDb.db, runId);
    const error = await rejection(client.runs.pause(runId));
    expect(error).toMatchObject({ status: 409, code: 'CONFLICT' });
    expect(error.message).toContain('terminal');
    expect(await client.runs.resume(runId)).toEqual({ runId, status: 'FAILED', paused: false });
  });

  it('cancel of a paused run wins: it unpauses and ends CANCELLED', async () => {
    const runId = await newRun();
    await client.runs.pause(runId);
    expect(await client.runs.cancel(runId)).toEqual({ runId, status: 'CANCELLED' });
    expect((await client.runs.get(runId)).run).toMatchObject({ status: 'CANCELLED', paused: false });
    expect(await rejection(client.runs.pause(runId))).toMatchObject({ status: 409 });
  });

  it('404 for an unknown run', async () => {
    expect(await rejection(client.runs.pause(UNKNOWN_RUN))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(await rejection(client.runs.resume(UNKNOWN_RUN))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('POST /v1/admin/workflows/{name}/pause and /resume', () => {
  it('pause → 202; starts are accepted PENDING and held; resume → 202 releases them; both idempotent', async () => {
    const paused = makeDefinition();
    await client.admin.workflows.register(paused as never);
    expect(await client.admin.workflows.pause(paused.name, { reason: 'incident 42' })).toEqual({
      name: paused.name,
      paused: true,
    });
    expect(await client.admin.workflows.pause(paused.name)).toEqual({ name: paused.name, paused: true });
    expect(await isWorkflowPaused(testDb.db, paused.name)).toBe(true);
    expect(await isWorkflowPaused(testDb.db, definition.name)).toBe(false);
    expect(await listPausedWorkflows(testDb.db)).toEqual(new Set([paused.name]));
    const { runId, status } = await client.workflows.start(paused.name, { input: {} });
    expect(status).toBe('PENDING');
    const item = () =>
      sql<{ held: boolean }>`select held_due_at is not null as held from outbox where run_id = ${runId}`.execute(
        testDb.db,
      );
    expect((await item()).rows).toEqual([{ held: true }]);
    // the run itself is not paused: its workflow is
    expect((await client.runs.get(runId)).run.paused).toBe(false);

    expect(await client.admin.workflows.resume(paused.name)).toEqual({ name: paused.name, paused: false });
    expect((await item()).rows).toEqual([{ held: false }]);
    expect(await isWorkflowPaused(testDb.db, paused.name)).toBe(false);
    expect(await client.admin.workflows.resume(paused.name)).toEqual({ name: paused.name, paused: false });
  });

  it('401 without the admin token, 404 for an unknown workflow, 400 for a malformed name', async () => {
    expect(await rejection(anonymous.admin.workflows.pause(definition.name))).toMatchObject({ status: 401 });
    expect(await rejection(anonymous.admin.workflows.resume(definition.name))).toMatchObject({ status: 401 });
    expect(await rejection(client.admin.workflows.pause('no-such-workflow'))).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });
    expect(await rejection(client.admin.workflows.resume('no-such-workflow'))).toMatchObject({ status: 404 });
    expect(await rejection(client.admin.workflows.pause('Not_A_Name'))).toMatchObject({ status: 400 });
    const rows = await testDb.db.selectFrom('workflow_pauses').select('workflow_name').execute();
    expect(rows.map((r) => r.workflow_name)).not.toContain(definition.name);
  });
});

describe('POST /v1/runs/{runId}/steps/{stepId}/retry', () => {
  it("writes OPERATOR_ACTION { action: 'retry-step' } before the status change", async () => {
    const runId = await newRun();
    await failFirstStep(testDb.db, runId);
    await client.runs.retryStep(runId, 'charge-payment');
    expect((await lastEvents(runId, 2)).map((e) => [e.type, e.data['action'] ?? e.data['to']])).toEqual([
      ['OPERATOR_ACTION', 'retry-step'],
      ['RUN_STATUS_CHANGED', 'RUNNING'],
    ]);
  });
});

describe('the action functions a bulk operation calls (@sagaflow/db)', () => {
  const operationId = '0190a0b0-0000-7000-8000-000000000042';

  it('cancelRunAction with an operationId: OPERATOR_ACTION cancel, then CANCEL_REQUESTED with the reason', async () => {
    const runId = await newRun();
    expect(await cancelRunAction(testDb.db, runId, { reason: 'bulk cancel', operationId })).toMatchObject({
      applied: true,
      runId,
      status: 'CANCELLED',
      paused: false,
    });
    expect((await lastEvents(runId, 3)).map((e) => [e.type, e.data])).toEqual([
      ['OPERATOR_ACTION', { action: 'cancel', reason: 'bulk cancel', operationId }],
      ['CANCEL_REQUESTED', { reason: 'bulk cancel' }],
      ['RUN_STATUS_CHANGED', expect.objectContaining({ from: 'PENDING', to: 'CANCELLED' }) as unknown],
    ]);
    expect(await cancelRunAction(testDb.db, runId, { operationId })).toMatchObject({
      applied: false,
      code: 'CONFLICT',
      status: 'CANCELLED',
    });
    expect(await cancelRunAction(testDb.db, UNKNOWN_RUN)).toMatchObject({ applied: false, code: 'NOT_FOUND' });
  });

  it("runs inside the caller's transaction: a rollback undoes the action", async () => {
    const runId = await newRun();
    await failFirstStep(testDb.db, runId);
    const rolledBack = new Error('roll back');
    await expect(
      testDb.db.transaction().execute(async (trx) => {
        expect(await redriveRun(trx, runId, { operationId })).toMatchObject({ applied: true });
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    expect((await client.runs.get(runId)).run.status).toBe('FAILED');
    await testDb.db.transaction().execute(async (trx) => {
      expect(await redriveRun(trx, runId, { operationId })).toMatchObject({ applied: true, status: 'RUNNING' });
      expect(await pauseRun(trx, runId, { operationId })).toMatchObject({ applied: true, paused: true });
    });
    expect((await client.runs.get(runId)).run).toMatchObject({ status: 'RUNNING', paused: true });
    expect((await lastEvents(runId, 3)).map((e) => e.data['action'] ?? e.data['to'])).toEqual([
      'redrive',
      'RUNNING',
      'pause',
    ]);
  });
});

describe('logs', () => {
  it("every operator action logs one info line 'operator action' with its outcome", async () => {
    const { logs: capture, logger } = createCapturedApiLogger();
    const app = buildTestApp(testDb.db, { logger });
    try {
      const runId = await newRun();
      const post = (url: string, payload: object = {}, headers: Record<string, string> = {}) =>
        app.inject({ method: 'POST', url, payload, headers });
      expect((await post(`/v1/runs/${runId}/pause`, { reason: 'look' })).statusCode).toBe(202);
      expect((await post(`/v1/runs/${runId}/pause`)).statusCode).toBe(202);
      expect((await post(`/v1/runs/${runId}/redrive`)).statusCode).toBe(409);
      expect((await post(`/v1/runs/${runId}/resume`)).statusCode).toBe(202);
      const admin = { 'x-admin-token': ADMIN_TOKEN };
      expect((await post(`/v1/admin/workflows/${definition.name}/pause`, {}, admin)).statusCode).toBe(202);
      expect((await post(`/v1/admin/workflows/${definition.name}/resume`, {}, admin)).statusCode).toBe(202);
      const lines = capture.records().filter((r) => r['msg'] === 'operator action');
      expect(lines.map((r) => [r['level'], r['action'], r['outcome']])).toEqual([
        [30, 'pause', 'applied'],
        [30, 'pause', 'noop'],
        [30, 'redrive', 'refused'],
        [30, 'resume', 'applied'],
        [30, 'pause-workflow', 'applied'],
        [30, 'resume-workflow', 'applied'],
      ]);
      expect(lines[0]).toMatchObject({ runId, reason: 'look', workflowName: definition.name, paused: true });
      expect(lines[2]).toMatchObject({ runId, why: expect.stringContaining('only FAILED runs') as unknown });
      expect(lines[5]).toMatchObject({ workflowName: definition.name, items: expect.any(Number) as unknown });
    } finally {
      await app.close();
    }
  });
});
