import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoDefinitions } from '@sagaflow/definitions';
import { SagaFlowError, type WorkflowDefinition } from '@sagaflow/client';
import { readEffects, startStack, type Stack } from './stack.js';

/** End to end through the SDK: API + engine + mocks on loopback, a real database. */

let stack: Stack;
const WAIT = { timeoutMs: 30_000, intervalMs: 50 };
const orderInput = { orderId: 'o-1', amount: 42, sku: 'sku-1', email: 'buyer@example.com' };

/** Tight retry policies so failures are permanent within milliseconds. */
const fastRetry = { maxAttempts: 2, initialIntervalMs: 10, backoffCoefficient: 1, jitter: 'none' } as const;

const forwardRetryWorkflow: WorkflowDefinition = {
  name: 'e2e-forward-retry',
  version: '1.0.0',
  steps: [
    { id: 'charge-payment', request: { method: 'POST', service: 'payments', path: '/charges' }, retry: fastRetry },
    { id: 'send-confirmation-email', request: { method: 'POST', service: 'notifications', path: '/emails' } },
  ],
};

const compensationRetryWorkflow: WorkflowDefinition = {
  name: 'e2e-compensation-retry',
  version: '1.0.0',
  steps: [
    {
      id: 'charge-payment',
      request: { method: 'POST', service: 'payments', path: '/charges' },
      compensation: {
        id: 'refund-payment',
        request: { method: 'POST', service: 'payments', path: '/refunds' },
        retry: fastRetry,
      },
    },
    {
      id: 'reserve-inventory',
      request: { method: 'POST', service: 'inventory', path: '/reservations' },
      retry: fastRetry,
    },
  ],
};

beforeAll(async () => {
  stack = await startStack();
  const demos = loadDemoDefinitions() as unknown as WorkflowDefinition[];
  for (const definition of [...demos, forwardRetryWorkflow, compensationRetryWorkflow]) {
    const registered = await stack.client.admin.workflows.register(definition);
    expect(registered.created).toBe(true);
  }
});

afterAll(async () => {
  await stack?.stop();
});

describe('the demo workflows', () => {
  it.each([
    ['order-processing', orderInput],
    ['refund-flow', { orderId: 'o-2', amount: 10, email: 'buyer@example.com' }],
    ['invoice-issuance', { orderId: 'o-3', amount: 99 }],
  ])('%s COMPLETES with every step SUCCEEDED', async (name, input) => {
    const started = await stack.client.workflows.start(name, { input });
    expect(started.status).toBe('PENDING');
    // refund-flow@1.1.0 waits for an approval signal; the mailbox keeps one sent before the wait begins
    if (name === 'refund-flow') await stack.client.runs.signal(started.runId, 'approval', { approved: true });
    const view = await stack.client.runs.waitForCompletion(started.runId, WAIT);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.run.error).toBeNull();
    expect(view.steps.every((step) => step.status === 'SUCCEEDED')).toBe(true);
  });

  it('reject on reserve-inventory → COMPENSATED, with the refund executed', async () => {
    const { runId } = await stack.client.workflows.start('order-processing', {
      input: { ...orderInput, simulate: { 'reserve-inventory': 'reject' } },
    });
    const view = await stack.client.runs.waitForCompletion(runId, WAIT);
    expect(view.run.status).toBe('COMPENSATED');
    expect(view.run.error).toMatchObject({ code: 'STEP_FAILED', stepId: 'reserve-inventory' });
    const steps = Object.fromEntries(view.steps.map((step) => [step.stepId, step]));
    expect(steps['charge-payment']).toMatchObject({ status: 'SUCCEEDED', compensationStatus: 'COMPENSATED' });
    expect(steps['reserve-inventory']?.status).toBe('FAILED');
    expect(steps['send-confirmation-email']?.status).toBe('SKIPPED');
    const payments = await readEffects(stack.mocks.urls.payments);
    expect(payments.filter((e) => e.idempotencyKey === `${runId}:charge-payment:compensate`)).toHaveLength(1);
    const inventory = await readEffects(stack.mocks.urls.inventory);
    expect(inventory.filter((e) => e.runId === runId)).toEqual([]);
  });

  it('reject on send-confirmation-email → COMPENSATED, release before refund', async () => {
    const { runId } = await stack.client.workflows.start('order-processing', {
      input: { ...orderInput, simulate: { 'send-confirmation-email': 'reject' } },
    });
    const view = await stack.client.runs.waitForCompletion(runId, WAIT);
    expect(view.run.status).toBe('COMPENSATED');
    const refund = (await readEffects(stack.mocks.urls.payments)).find(
      (e) => e.idempotencyKey === `${runId}:charge-payment:compensate`,
    );
    const release = (await readEffects(stack.mocks.urls.inventory)).find(
      (e) => e.idempotencyKey === `${runId}:reserve-inventory:compensate`,
    );
    expect(refund).toBeDefined();
    expect(release).toBeDefined();
    expect(Date.parse(release!.at)).toBeLessThanOrEqual(Date.parse(refund!.at));
  });
});

describe('operator actions through the SDK', () => {
  it('cancels a running run → CANCELLED; cancelling it again is a 409', async () => {
    const { runId } = await stack.client.workflows.start('order-processing', {
      input: { ...orderInput, simulate: { 'charge-payment': 'slow:1000' } },
    });
    const cancelled = await stack.client.runs.cancel(runId);
    expect(['CANCELLING', 'CANCELLED']).toContain(cancelled.status);
    const view = await stack.client.runs.waitForCompletion(runId, WAIT);
    expect(view.run.status).toBe('CANCELLED');
    expect(view.run.error?.code).toBe('CANCELLED');
    await expect(stack.client.runs.cancel(runId)).rejects.toMatchObject({ status: 409, code: 'CONFLICT' });
  });

  it('retries a FAILED forward step → the run COMPLETES', async () => {
    const { runId } = await stack.client.workflows.start('e2e-forward-retry', {
      input: { simulate: { 'charge-payment': 'unavailable:2' } },
    });
    const failed = await stack.client.runs.waitForCompletion(runId, WAIT);
    expect(failed.run.status).toBe('FAILED');
    expect(failed.run.error).toMatchObject({ code: 'STEP_FAILED', stepId: 'charge-payment' });
    const retried = await stack.client.runs.retryStep(runId, 'charge-payment');
    expect(retried).toEqual({ runId, stepId: 'charge-payment', status: 'RUNNING' });
    const view = await stack.client.runs.waitForCompletion(runId, WAIT);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps.map((step) => step.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it('retries a FAILED compensation → the run is COMPENSATED', async () => {
    const { runId } = await stack.client.workflows.start('e2e-compensation-retry', {
      input: { simulate: { 'reserve-inventory': 'reject', 'refund-payment': 'unavailable:2' } },
    });
    const failed = await stack.client.runs.waitForCompletion(runId, WAIT);
    expect(failed.run.status).toBe('FAILED');
    expect(failed.run.error?.code).toBe('COMPENSATION_FAILED');
    expect(failed.steps[0]?.compensationStatus).toBe('FAILED');
    const retried = await stack.client.runs.retryStep(runId, 'charge-payment');
    expect(retried.status).toBe('COMPENSATING');
    const view = await stack.client.runs.waitForCompletion(runId, WAIT);
    expect(view.run.status).toBe('COMPENSATED');
    expect(view.steps[0]?.compensationStatus).toBe('COMPENSATED');
    const refunds = (await readEffects(stack.mocks.urls.payments)).filter(
      (e) => e.idempotencyKey === `${runId}:charge-payment:compensate`,
    );
    expect(refunds).toHaveLength(1);
  });

  it('two concurrent starts with one idempotency key make one run', async () => {
    const key = `concurrent-${randomUUID()}`;
    const body = { input: { ...orderInput, orderId: key } };
    const results = await Promise.all(
      Array.from({ length: 4 }, () => stack.client.workflows.start('order-processing', body, { idempotencyKey: key })),
    );
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    const rows = await stack.testDb.db
      .selectFrom('workflow_runs')
      .select('id')
      .where('idempotency_key', '=', key)
      .execute();
    expect(rows).toHaveLength(1);
    await expect(
      stack.client.workflows.start('order-processing', { input: { other: true } }, { idempotencyKey: key }),
    ).rejects.toMatchObject({ status: 409, code: 'CONFLICT' });
    expect((await stack.client.runs.waitForCompletion(results[0]!.runId, WAIT)).run.status).toBe('COMPLETED');
  });

  it('non-2xx answers reject with SagaFlowError (404, 400, 409 on a changed definition)', async () => {
    const missing = await stack.client.runs.get(randomUUID()).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SagaFlowError);
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    await expect(stack.client.workflows.start('no-such-workflow', { input: {} })).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      stack.client.admin.workflows.register({ ...forwardRetryWorkflow, description: 'changed' }),
    ).rejects.toMatchObject({ status: 409, code: 'CONFLICT' });
    const again = await stack.client.admin.workflows.register(forwardRetryWorkflow);
    expect(again.created).toBe(false);
  });
});
