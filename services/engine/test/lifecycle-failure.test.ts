import { ConflictError, NotFoundError, retryStep } from '@sagaflow/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusesByAttempt, waitFor } from '@sagaflow/testkit';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';

/** docs/contract.md#run-lifecycle failure paths: permanent failures, exhausted retries, compensation, operator retries, template errors. */

let h: EngineHarness;
beforeAll(async () => {
  h = await createEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

const fastRetry = { initialIntervalMs: 20, backoffCoefficient: 1, jitter: 'none' } as const;

describe('lifecycle: failures and compensation', () => {
  it('a permanent 422 on step 1 fails the run; later steps are skipped and nothing is compensated', async () => {
    const saga = await h.defineSaga('fail-first', [
      { id: 'a', compensation: true },
      { id: 'b', compensation: true },
      { id: 'c' },
    ]);
    h.downstream.script(saga.path('a'), [{ status: 422, body: { reason: 'card declined' } }]);

    const runId = await saga.start();
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('FAILED');
    expect(view.run.error).toMatchObject({ code: 'STEP_FAILED', stepId: 'a', message: expect.stringContaining('422') });
    expect(view.steps.map((s) => [s.stepId, s.status, s.attempts, s.compensationStatus])).toEqual([
      ['a', 'FAILED', 1, 'PENDING'],
      ['b', 'SKIPPED', 0, 'PENDING'],
      ['c', 'SKIPPED', 0, 'NONE'],
    ]);
    expect(view.steps[0]!.error).toMatchObject({
      code: 'STEP_FAILED',
      httpStatus: 422,
      response: { reason: 'card declined' },
    });
    expect(h.downstream.requests({ runId }).map((r) => r.path)).toEqual(['/fail-first/a']);
    await h.expectNoMoreWork(runId);
    const failedLine = await waitFor(
      () => h.logs().find((l) => l['runId'] === runId && l['msg'] === 'step failed permanently'),
      { timeoutMs: 5_000, description: 'the step failure to be logged' },
    );
    expect(failedLine).toMatchObject({ parked: false, httpStatus: 422 });
  });

  it('a permanent 422 on step 3 compensates step 2 then step 1 and ends COMPENSATED with STEP_FAILED kept', async () => {
    const saga = await h.defineSaga('fail-last', [
      { id: 'a', compensation: true },
      { id: 'b', compensation: true },
      { id: 'c' },
    ]);
    h.downstream.script(saga.path('a'), [{ status: 200, body: { chargeId: 'ch_9' } }]);
    h.downstream.script(saga.path('c'), [{ status: 422 }]);

    const runId = await saga.start({ orderId: 'o-9' });
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('COMPENSATED');
    expect(view.run.error).toMatchObject({ code: 'STEP_FAILED', stepId: 'c' });
    expect(view.steps.map((s) => [s.stepId, s.status, s.compensationStatus, s.compensationAttempts])).toEqual([
      ['a', 'SUCCEEDED', 'COMPENSATED', 1],
      ['b', 'SUCCEEDED', 'COMPENSATED', 1],
      ['c', 'FAILED', 'NONE', 0],
    ]);
    const requests = h.downstream.requests({ runId });
    expect(requests.map((r) => r.path)).toEqual([
      '/fail-last/a',
      '/fail-last/b',
      '/fail-last/c',
      '/fail-last/b/undo',
      '/fail-last/a/undo',
    ]);
    const [undoB, undoA] = requests.slice(3);
    expect(undoB!.headers).toMatchObject({
      'x-idempotency-key': `${runId}:b:compensate`,
      'x-sagaflow-step-id': 'b',
      'x-sagaflow-attempt': '1',
    });
    expect(undoA!.headers).toMatchObject({
      'x-idempotency-key': `${runId}:a:compensate`,
      'x-sagaflow-step-id': 'a',
      'x-sagaflow-attempt': '1',
    });
    expect(undoA!.body).toMatchObject({
      kind: 'compensation',
      compensationId: 'a-undo',
      stepId: 'a',
      steps: { a: { output: { chargeId: 'ch_9' } } },
    });
    await h.expectNoMoreWork(runId);
  });

  it('maxAttempts exhausted on step 1 (always 503): FAILED after exactly 3 requests', async () => {
    const saga = await h.defineSaga('exhaust-first', [
      { id: 'a', compensation: true, retry: { ...fastRetry, maxAttempts: 3 } },
      { id: 'b' },
    ]);
    h.downstream.script(saga.path('a'), [{ status: 503 }]);

    const runId = await saga.start();
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('FAILED');
    expect(view.run.error).toMatchObject({ code: 'STEP_FAILED', stepId: 'a' });
    expect(view.steps[0]).toMatchObject({
      status: 'FAILED',
      attempts: 3,
      compensationStatus: 'PENDING',
      error: { lastErrorCode: 'HTTP_ERROR', httpStatus: 503 },
    });
    expect(h.downstream.requests({ runId }).map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect((await h.attempts(runId)).map((a) => a.outcome)).toEqual(['RETRYABLE', 'RETRYABLE', 'FAILED']);
    await h.expectNoMoreWork(runId);
  });

  it('maxAttempts exhausted on step 2 (always 503): step 1 is compensated, COMPENSATED after exactly 3 requests', async () => {
    const saga = await h.defineSaga('exhaust-second', [
      { id: 'a', compensation: true },
      { id: 'b', retry: { ...fastRetry, maxAttempts: 3 } },
    ]);
    h.downstream.script(saga.path('b'), [{ status: 503 }]);

    const runId = await saga.start();
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('COMPENSATED');
    expect(view.run.error).toMatchObject({ code: 'STEP_FAILED', stepId: 'b' });
    expect(h.downstream.requests({ runId, path: saga.path('b') })).toHaveLength(3);
    expect(
      h.downstream
        .requests({ runId })
        .map((r) => r.path)
        .slice(-1),
    ).toEqual(['/exhaust-second/a/undo']);
    await h.expectNoMoreWork(runId);
  });

  it('an exhausted compensation fails the run with COMPENSATION_FAILED and parks the item; retryStep then finishes the unwinding', async () => {
    const saga = await h.defineSaga('undo-exhaust', [
      { id: 'a', compensation: { retry: { ...fastRetry, maxAttempts: 2 } } },
      { id: 'b' },
    ]);
    h.downstream.script(saga.path('b'), [{ status: 422 }]);
    h.downstream.script(saga.undoPath('a'), [{ status: 500 }]);

    const runId = await saga.start();
    const failed = await h.waitTerminal(runId);

    expect(failed.run.status).toBe('FAILED');
    expect(failed.run.error).toMatchObject({ code: 'COMPENSATION_FAILED', stepId: 'a' });
    expect(failed.steps[0]).toMatchObject({
      status: 'SUCCEEDED',
      compensationStatus: 'FAILED',
      compensationAttempts: 2,
    });
    expect(h.downstream.requests({ runId, path: saga.undoPath('a') })).toHaveLength(2);
    expect((await h.outbox(runId)).map((row) => [row.step_index, row.kind, row.status])).toEqual([
      [0, 'compensation', 'DEAD'],
    ]);
    await h.expectNoMoreWork(runId);
    // the log says what happened to the item: parked (DEAD)
    const failedLine = await waitFor(
      () => h.logs().find((l) => l['runId'] === runId && l['msg'] === 'compensation failed permanently'),
      { timeoutMs: 5_000, description: 'the compensation failure to be logged' },
    );
    expect(failedLine).toMatchObject({ parked: true, attemptNo: 2, error: { code: 'STEP_FAILED' } });

    h.downstream.script(saga.undoPath('a'), [{ status: 200 }]);
    expect(await retryStep(h.db, runId, 'a')).toEqual({ runId, stepId: 'a', status: 'COMPENSATING' });
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('COMPENSATED');
    expect(view.run.error).toMatchObject({ code: 'STEP_FAILED', stepId: 'b' });
    expect(view.steps[0]).toMatchObject({ compensationStatus: 'COMPENSATED', compensationAttempts: 3 });
    const undos = h.downstream.requests({ runId, path: saga.undoPath('a') });
    expect(undos.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(new Set(undos.map((r) => r.key))).toEqual(new Set([`${runId}:a:compensate`]));
    expect(await h.outbox(runId)).toEqual([]);
    await h.expectNoMoreWork(runId);
  });

  it('retryStep after a forward failure runs the step again and completes the run', async () => {
    const saga = await h.defineSaga('retry-forward', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    h.downstream.script(saga.path('b'), statusesByAttempt(422, 200));

    const runId = await saga.start();
    const failed = await h.waitTerminal(runId);
    expect(failed.run.status).toBe('FAILED');
    expect(failed.run.error).toMatchObject({ code: 'STEP_FAILED', stepId: 'b' });
    expect(failed.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'FAILED', 'SKIPPED']);
    await h.expectNoMoreWork(runId);

    expect(await retryStep(h.db, runId, 'b')).toEqual({ runId, stepId: 'b', status: 'RUNNING' });
    const view = await h.waitTerminal(runId);

    expect(view.run).toMatchObject({ status: 'COMPLETED', error: null });
    expect(view.steps.map((s) => [s.stepId, s.status, s.attempts])).toEqual([
      ['a', 'SUCCEEDED', 1],
      ['b', 'SUCCEEDED', 2],
      ['c', 'SUCCEEDED', 1],
    ]);
    expect(h.downstream.requests({ runId }).map((r) => `${r.path}#${r.attempt}`)).toEqual([
      '/retry-forward/a#1',
      '/retry-forward/b#1',
      '/retry-forward/b#2',
      '/retry-forward/c#1',
    ]);
    await h.expectNoMoreWork(runId);

    // refusals: a COMPLETED run is a conflict; an unknown step or run is not found
    await expect(retryStep(h.db, runId, 'b')).rejects.toBeInstanceOf(ConflictError);
    await expect(retryStep(h.db, runId, 'nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(retryStep(h.db, '00000000-0000-4000-8000-000000000000', 'b')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a body template naming a missing input path fails with TEMPLATE_ERROR and sends nothing for that step', async () => {
    const saga = await h.defineSaga('template-missing', [
      { id: 'a' },
      { id: 'b', request: { body: { orderId: '{{input.order.id}}' } } },
      { id: 'c' },
    ]);

    const runId = await saga.start({ amount: 3 });
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('FAILED');
    expect(view.run.error).toMatchObject({
      code: 'TEMPLATE_ERROR',
      stepId: 'b',
      message: expect.stringContaining('input.order.id'),
    });
    expect(view.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'FAILED', 'SKIPPED']);
    expect(view.steps[1]!.error).toMatchObject({ code: 'TEMPLATE_ERROR' });
    expect(h.downstream.requests({ runId }).map((r) => r.path)).toEqual(['/template-missing/a']);
    expect((await h.attempts(runId)).map((a) => [a.step_index, a.outcome, a.http_status])).toEqual([
      [0, 'SUCCEEDED', 200],
      [1, 'FAILED', null],
    ]);
    await h.expectNoMoreWork(runId);
  });
});
