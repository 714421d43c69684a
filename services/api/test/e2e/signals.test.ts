import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoDefinitions } from '@sagaflow/definitions';
import { SagaFlowError, type SagaFlowClient, type WorkflowDefinition } from '@sagaflow/client';
import { waitFor } from '@sagaflow/testkit';
import { startStack, type Stack } from './stack.js';

/** POST /v1/runs/{runId}/signals/{name} through the SDK (docs/api.md#signals), with API + engine + mocks. */

let stack: Stack;
let client: SagaFlowClient;
const WAIT = { timeoutMs: 30_000, intervalMs: 50 };
const refundInput = { orderId: 'o-9', amount: 120, email: 'buyer@example.com' };

const waitOnly: WorkflowDefinition = {
  name: 'signal-route-wait',
  version: '1.0.0',
  steps: [{ id: 'approve', waitForSignal: { name: 'approval' } }],
};

beforeAll(async () => {
  stack = await startStack();
  client = stack.client;
  const demos = loadDemoDefinitions() as unknown as WorkflowDefinition[];
  for (const definition of [...demos, waitOnly]) await client.admin.workflows.register(definition);
});

afterAll(async () => {
  await stack?.stop();
});

async function refusal(promise: Promise<unknown>): Promise<SagaFlowError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SagaFlowError);
  return error as SagaFlowError;
}

/** Polls the run's history until its wait step has begun waiting. */
async function waitUntilWaiting(runId: string): Promise<void> {
  await waitFor(async () => (await client.runs.events(runId)).events.some((e) => e.type === 'STEP_WAITING'), {
    timeoutMs: 15_000,
    description: `run ${runId} to wait`,
  });
}

describe('refund-flow@1.1.0 waits for an approval signal', () => {
  it('waits after validate-refund, then goes on with the signal payload as the step output', async () => {
    const { runId } = await client.workflows.start('refund-flow', { input: refundInput, version: '1.1.0' });
    await waitUntilWaiting(runId);
    const waiting = await client.runs.get(runId);
    expect(waiting.run.status).toBe('RUNNING');
    expect(waiting.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'RUNNING', 'PENDING', 'PENDING']);

    const accepted = await client.runs.signal(runId, 'approval', { approved: true, by: 'ops' });
    expect(accepted).toMatchObject({ runId, name: 'approval', consumed: false });
    const view = await client.runs.waitForCompletion(runId, WAIT);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[1]!.output).toEqual({ approved: true, by: 'ops' });

    const { events } = await client.runs.events(runId, { limit: 100 });
    expect(events.map((e) => [e.type, e.stepId])).toEqual([
      ['RUN_CREATED', null],
      ['RUN_STATUS_CHANGED', null],
      ['ATTEMPT_FINISHED', 'validate-refund'],
      ['STEP_WAITING', 'await-approval'],
      ['SIGNAL_RECEIVED', null],
      ['STEP_WOKEN', 'await-approval'],
      ['ATTEMPT_FINISHED', 'refund-payment'],
      ['ATTEMPT_FINISHED', 'notify-customer'],
      ['RUN_STATUS_CHANGED', null],
    ]);
    expect(events[3]!.data).toMatchObject({ waitFor: 'signal' });
    expect(events[4]!.data).toEqual({ name: 'approval', signalId: accepted.signalId });
    expect(events[5]!.data).toEqual({ cause: 'signal', signalId: accepted.signalId });
    // a terminal run takes no more signals
    expect((await refusal(client.runs.signal(runId, 'approval', {}))).status).toBe(409);
    // the replay of a consumed signal says so
    expect((await client.runs.events(runId)).terminal).toBe(true);
  });
});

describe('POST /v1/runs/{runId}/signals/{name}', () => {
  it('idempotency key: same payload → same signalId, nothing new stored; another payload → 409', async () => {
    const { runId } = await client.workflows.start('signal-route-wait', { input: {} });
    await waitUntilWaiting(runId);
    // a signal of another name is kept and does not wake the step
    const other = await client.runs.signal(runId, 'other', 'x', { idempotencyKey: 'k-other' });
    const first = await client.runs.signal(runId, 'other', 'x', { idempotencyKey: 'k-other' });
    expect(first).toEqual(other);
    const conflict = await refusal(client.runs.signal(runId, 'other', 'y', { idempotencyKey: 'k-other' }));
    expect(conflict.status).toBe(409);
    expect(conflict.message).toContain('k-other');
    const received = (await client.runs.events(runId)).events.filter((e) => e.type === 'SIGNAL_RECEIVED');
    expect(received).toHaveLength(1);
    expect((await client.runs.get(runId)).run.status).toBe('RUNNING');

    const approval = await client.runs.signal(runId, 'approval', undefined, { idempotencyKey: 'k-approval' });
    const view = await client.runs.waitForCompletion(runId, WAIT);
    expect(view.steps[0]!.output).toBeNull();
    // a replay answers the same signal, now consumed, even on the terminal run (a retried request gets its answer)
    const replay = await client.runs.signal(runId, 'approval', undefined, { idempotencyKey: 'k-approval' });
    expect(replay).toEqual({ ...approval, consumed: true });
    expect(approval.consumed).toBe(false);
  });

  it('unknown run → 404, bad name → 400, payload over 256 KiB → 413', async () => {
    const unknown = await refusal(client.runs.signal('0b6f1c1e-6c9f-4c55-9d8e-2a7c0f5b8f11', 'approval', {}));
    expect(unknown.status).toBe(404);
    const { runId } = await client.workflows.start('signal-route-wait', { input: {} });
    const badName = await refusal(client.runs.signal(runId, 'Not_An_Id', {}));
    expect(badName.status).toBe(400);
    const big = await refusal(client.runs.signal(runId, 'approval', { blob: 'x'.repeat(256 * 1024) }));
    expect(big.status).toBe(413);
    expect(big.message).toContain('256 KiB');
    // nothing was stored by the refusals: the run still waits
    await waitUntilWaiting(runId);
    expect((await client.runs.events(runId)).events.some((e) => e.type === 'SIGNAL_RECEIVED')).toBe(false);
    await client.runs.cancel(runId);
  });

  it('cancel works on a waiting run', async () => {
    const { runId } = await client.workflows.start('refund-flow', { input: refundInput, version: '1.1.0' });
    await waitUntilWaiting(runId);
    expect(await client.runs.cancel(runId)).toEqual({ runId, status: 'CANCELLED' });
    const view = await client.runs.get(runId);
    expect(view.run.status).toBe('CANCELLED');
    expect(view.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'FAILED', 'SKIPPED', 'SKIPPED']);
    expect((await refusal(client.runs.signal(runId, 'approval', {}))).status).toBe(409);
  });

  it('metrics: signals_received_total counts accepted signals, runs_waiting{waitFor} the waiting runs', async () => {
    const { runId } = await client.workflows.start('signal-route-wait', { input: {} });
    await waitUntilWaiting(runId);
    const metrics = async () => (await fetch(`${stack.api.url}/metrics`)).text();
    const before = await metrics();
    expect(before).toMatch(/^runs_waiting\{waitFor="signal"\} [1-9]\d*$/m);
    expect(before).toMatch(/^runs_waiting\{waitFor="sleep"\} 0$/m);
    const count = (text: string) => Number(/^signals_received_total (\d+)$/m.exec(text)?.[1]);
    await client.runs.signal(runId, 'approval', { ok: true });
    expect(count(await metrics())).toBe(count(before) + 1);
    await client.runs.waitForCompletion(runId, WAIT);
  });
});
