import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Db } from '@sagaflow/db';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildTestApp, json, makeDefinition, registerDefinition, startRun } from './helpers.js';

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
const definition = makeDefinition();

/** Row factory: the state an engine leaves when the first step fails permanently with nothing to compensate. */
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

async function newRun(): Promise<string> {
  return json<{ runId: string }>(await startRun(app, definition.name)).runId;
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

describe('GET /v1/runs/{runId}', () => {
  it('200 with the run and its steps in definition order', async () => {
    const runId = await newRun();
    const response = await app.inject({ method: 'GET', url: `/v1/runs/${runId}` });
    expect(response.statusCode).toBe(200);
    const body = json<{ run: Record<string, unknown>; steps: Array<Record<string, unknown>> }>(response);
    expect(body.run).toMatchObject({
      runId,
      workflowName: definition.name,
      workflowVersion: '1.0.0',
      status: 'PENDING',
      error: null,
      input: { orderId: 'o-1' },
      context: {},
      completedAt: null,
      paused: false,
    });
    expect(Object.keys(body.run).sort()).toEqual([
      'completedAt',
      'context',
      'correlationId',
      'createdAt',
      'error',
      'input',
      'paused',
      'runId',
      'status',
      'updatedAt',
      'workflowName',
      'workflowVersion',
    ]);
    expect(body.steps.map((s) => s.stepId)).toEqual(['charge-payment', 'send-email']);
    expect(body.steps[0]).toMatchObject({
      status: 'PENDING',
      attempts: 0,
      compensationAttempts: 0,
      output: null,
      error: null,
    });
    expect(body.steps[1]?.compensationStatus).toBe('NONE');
  });

  it('404 for an unknown run, 400 for a runId that is not a UUID', async () => {
    const missing = await app.inject({ method: 'GET', url: `/v1/runs/${randomUUID()}` });
    expect(missing.statusCode).toBe(404);
    expect(json(missing)).toEqual({ code: 'NOT_FOUND', message: expect.any(String) });
    const invalid = await app.inject({ method: 'GET', url: '/v1/runs/not-a-uuid' });
    expect(invalid.statusCode).toBe(400);
    expect(json<{ issues: Array<{ path: unknown[] }> }>(invalid).issues[0]?.path).toEqual(['runId']);
  });
});

describe('POST /v1/runs/{runId}/cancel', () => {
  it('202 for a PENDING run (no body needed), then 409 once it is terminal', async () => {
    const runId = await newRun();
    const response = await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` });
    expect(response.statusCode).toBe(202);
    expect(json(response)).toEqual({ runId, status: expect.stringMatching(/^(CANCELLING|CANCELLED)$/) });
    const again = await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel`, payload: {} });
    expect(again.statusCode).toBe(409);
    expect(json(again)).toEqual({ code: 'CONFLICT', message: expect.any(String) });
  });

  it('404 for an unknown run, 400 for an invalid runId', async () => {
    expect((await app.inject({ method: 'POST', url: `/v1/runs/${randomUUID()}/cancel` })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/v1/runs/123/cancel' })).statusCode).toBe(400);
  });
});

describe('POST /v1/runs/{runId}/steps/{stepId}/retry', () => {
  it('202 RUNNING for the FAILED step of a FAILED run', async () => {
    const runId = await newRun();
    await failFirstStep(testDb.db, runId);
    const response = await app.inject({ method: 'POST', url: `/v1/runs/${runId}/steps/charge-payment/retry` });
    expect(response.statusCode).toBe(202);
    expect(json(response)).toEqual({ runId, stepId: 'charge-payment', status: 'RUNNING' });
    const view = json<{ run: { status: string; error: unknown } }>(
      await app.inject({ method: 'GET', url: `/v1/runs/${runId}` }),
    );
    expect(view.run).toMatchObject({ status: 'RUNNING', error: null });
  });

  it('409 with the reason for a run that is not FAILED, or a step that did not fail', async () => {
    const pending = await newRun();
    const notFailed = await app.inject({ method: 'POST', url: `/v1/runs/${pending}/steps/charge-payment/retry` });
    expect(notFailed.statusCode).toBe(409);
    expect(json<{ message: string }>(notFailed).message).toMatch(/PENDING/);
    const failed = await newRun();
    await failFirstStep(testDb.db, failed);
    const skipped = await app.inject({ method: 'POST', url: `/v1/runs/${failed}/steps/send-email/retry` });
    expect(skipped.statusCode).toBe(409);
  });

  it('404 for an unknown run or an unknown step', async () => {
    const unknownRun = await app.inject({ method: 'POST', url: `/v1/runs/${randomUUID()}/steps/charge-payment/retry` });
    expect(unknownRun.statusCode).toBe(404);
    const runId = await newRun();
    const unknownStep = await app.inject({ method: 'POST', url: `/v1/runs/${runId}/steps/no-such-step/retry` });
    expect(unknownStep.statusCode).toBe(404);
    expect(json(unknownStep).code).toBe('NOT_FOUND');
  });
});
