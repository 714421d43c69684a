import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusesByAttempt, type DownstreamRequest } from '@sagaflow/testkit';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';

/** docs/contract.md#downstream-requests and #run-lifecycle forward paths: success, retries (status, timeout, Retry-After) and the backoff timing. */

let h: EngineHarness;
beforeAll(async () => {
  h = await createEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

const fastRetry = { initialIntervalMs: 20, backoffCoefficient: 1, jitter: 'none' } as const;

const gaps = (requests: DownstreamRequest[]): number[] =>
  requests.slice(1).map((r, i) => r.arrivedAt - requests[i]!.arrivedAt);

describe('lifecycle: forward paths', () => {
  it('success: three steps complete, each request carries the docs/contract.md#downstream-requests headers and the envelope', async () => {
    const saga = await h.defineSaga('fwd-success', [
      { id: 'a', compensation: true },
      { id: 'b' },
      { id: 'c', compensation: true },
    ]);
    h.downstream.script(saga.path('a'), [{ status: 200, body: { chargeId: 'ch_1' } }]);
    h.downstream.script(saga.path('b'), [{ status: 201, body: { reservation: 7 } }]);
    h.downstream.script(saga.path('c'), [{ status: 204 }]);

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const runId = await saga.start(
      { orderId: 'o-1', amount: 10 },
      { tenant: 't1' },
      { correlationId: 'corr-success', traceParent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    const view = await h.waitTerminal(runId);

    expect(view.run).toMatchObject({
      status: 'COMPLETED',
      error: null,
      correlationId: 'corr-success',
      input: { orderId: 'o-1', amount: 10 },
      context: { tenant: 't1' },
    });
    expect(view.run.completedAt).not.toBeNull();
    expect(
      view.steps.map((s) => [s.stepId, s.status, s.attempts, s.compensationStatus, s.compensationAttempts]),
    ).toEqual([
      ['a', 'SUCCEEDED', 1, 'PENDING', 0],
      ['b', 'SUCCEEDED', 1, 'NONE', 0],
      ['c', 'SUCCEEDED', 1, 'PENDING', 0],
    ]);
    expect(view.steps.map((s) => s.output)).toEqual([{ chargeId: 'ch_1' }, { reservation: 7 }, null]);
    for (const step of view.steps) expect(step.finishedAt).not.toBeNull();

    const requests = h.downstream.requests({ runId });
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /fwd-success/a',
      'POST /fwd-success/b',
      'POST /fwd-success/c',
    ]);
    for (const [i, stepId] of ['a', 'b', 'c'].entries()) {
      const headers = requests[i]!.headers;
      expect(headers).toMatchObject({
        'x-idempotency-key': `${runId}:${stepId}`,
        'x-correlation-id': view.run.correlationId,
        'x-sagaflow-run-id': runId,
        'x-sagaflow-step-id': stepId,
        'x-sagaflow-attempt': '1',
        'content-type': 'application/json',
      });
      // the run's trace, a span of its own
      expect(headers['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    }

    const base = {
      runId,
      workflowName: 'fwd-success',
      workflowVersion: '1.0.0',
      kind: 'action',
      attempt: 1,
      input: { orderId: 'o-1', amount: 10 },
      context: { tenant: 't1' },
    };
    expect(requests[0]!.body).toEqual({ ...base, stepId: 'a', steps: {} });
    expect(requests[1]!.body).toEqual({ ...base, stepId: 'b', steps: { a: { output: { chargeId: 'ch_1' } } } });
    expect(requests[2]!.body).toEqual({
      ...base,
      stepId: 'c',
      steps: { a: { output: { chargeId: 'ch_1' } }, b: { output: { reservation: 7 } } },
    });

    expect(
      (await h.attempts(runId)).map((a) => [a.step_index, a.kind, a.attempt_no, a.outcome, a.http_status]),
    ).toEqual([
      [0, 'action', 1, 'SUCCEEDED', 200],
      [1, 'action', 1, 'SUCCEEDED', 201],
      [2, 'action', 1, 'SUCCEEDED', 204],
    ]);
    await h.expectNoMoreWork(runId);
  });

  it('503, 503, 200: completes after three attempts with one idempotency key and attempt numbers 1, 2, 3', async () => {
    const saga = await h.defineSaga('fwd-retry', [{ id: 'a', retry: fastRetry }, { id: 'b' }]);
    h.downstream.script(saga.path('a'), statusesByAttempt(503, 503, 200));

    const runId = await saga.start({ n: 1 });
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[0]).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 3,
      error: null,
      output: { ok: true, path: '/fwd-retry/a', nth: 3 },
    });
    const requests = h.downstream.requests({ runId, path: saga.path('a') });
    expect(requests.map((r) => r.key)).toEqual([`${runId}:a`, `${runId}:a`, `${runId}:a`]);
    expect(requests.map((r) => r.headers['x-sagaflow-attempt'])).toEqual(['1', '2', '3']);
    expect(requests.map((r) => (r.body as { attempt: number }).attempt)).toEqual([1, 2, 3]);

    const attempts = (await h.attempts(runId)).filter((a) => a.step_index === 0);
    expect(attempts.map((a) => [a.attempt_no, a.outcome, a.http_status])).toEqual([
      [1, 'RETRYABLE', 503],
      [2, 'RETRYABLE', 503],
      [3, 'SUCCEEDED', 200],
    ]);
    expect(attempts[0]!.error).toMatchObject({ code: 'HTTP_ERROR', httpStatus: 503 });
    await h.expectNoMoreWork(runId);
  });

  it('a timeout is retried: the first request hangs, the second succeeds', async () => {
    const saga = await h.defineSaga('fwd-timeout', [{ id: 'a', timeoutMs: 300, retry: fastRetry }]);
    h.downstream.script(saga.path('a'), (_req, nth) =>
      nth === 1 ? { type: 'hang' } : { status: 200, body: { late: false } },
    );

    const runId = await saga.start();
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 2, output: { late: false } });
    const requests = h.downstream.requests({ runId });
    expect(requests).toHaveLength(2);
    expect(gaps(requests)[0]).toBeGreaterThanOrEqual(300);
    const attempts = await h.attempts(runId);
    expect(attempts.map((a) => [a.attempt_no, a.outcome, a.http_status])).toEqual([
      [1, 'RETRYABLE', null],
      [2, 'SUCCEEDED', 200],
    ]);
    expect(attempts[0]!.error).toMatchObject({ code: 'TIMEOUT' });
    await h.expectNoMoreWork(runId);
  });

  it('429 with Retry-After: 1 waits about a second before the retry', async () => {
    const saga = await h.defineSaga('fwd-retry-after', [{ id: 'a', retry: { ...fastRetry, initialIntervalMs: 10 } }]);
    h.downstream.script(saga.path('a'), (_req, nth) =>
      nth === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
    );

    const runId = await saga.start();
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('COMPLETED');
    const [gap] = gaps(h.downstream.requests({ runId }));
    expect(gap).toBeGreaterThanOrEqual(995);
    expect(gap).toBeLessThan(2_000);
    const attempts = await h.attempts(runId);
    expect(attempts.map((a) => a.http_status)).toEqual([429, 200]);
    // the first attempt's error says the wait came from Retry-After (the console labels that gap so)
    expect(attempts[0]!.error).toMatchObject({ retryAfterMs: 1_000 });
    await h.expectNoMoreWork(runId);
  });

  it('Retry-After is capped at maxIntervalMs', async () => {
    const saga = await h.defineSaga('fwd-retry-after-cap', [{ id: 'a', retry: { ...fastRetry, maxIntervalMs: 200 } }]);
    h.downstream.script(saga.path('a'), (_req, nth) =>
      nth === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
    );

    const runId = await saga.start();
    expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
    const [gap] = gaps(h.downstream.requests({ runId }));
    expect(gap).toBeGreaterThanOrEqual(195);
    expect(gap).toBeLessThan(900);
    await h.expectNoMoreWork(runId);
  });

  it('backoff timing with jitter "none": gaps of at least 150 and 300 ms, and not much more', async () => {
    const retry = { initialIntervalMs: 150, backoffCoefficient: 2, jitter: 'none', maxAttempts: 5 } as const;
    const saga = await h.defineSaga('fwd-backoff', [{ id: 'a', retry }]);
    h.downstream.script(saga.path('a'), statusesByAttempt(503, 503, 200));

    const runId = await saga.start();
    expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
    const [first, second] = gaps(h.downstream.requests({ runId }));
    expect(first).toBeGreaterThanOrEqual(150);
    expect(first).toBeLessThan(150 + 400);
    expect(second).toBeGreaterThanOrEqual(300);
    expect(second).toBeLessThan(300 + 400);
    await h.expectNoMoreWork(runId);
  });

  it('an idle engine wakes for its own retry at the retry time, not at its next poll', async () => {
    await h.stopEngine();
    await h.startEngine({ pollIntervalMs: 60_000 });
    try {
      const retry = { initialIntervalMs: 150, backoffCoefficient: 2, jitter: 'none', maxAttempts: 5 } as const;
      const saga = await h.defineSaga('fwd-idle-retry', [{ id: 'a', retry }]);
      h.downstream.script(saga.path('a'), statusesByAttempt(503, 503, 200));
      const runId = await saga.start();
      expect((await h.waitTerminal(runId, 10_000)).run.status).toBe('COMPLETED');
      const [first, second] = gaps(h.downstream.requests({ runId }));
      expect(first).toBeLessThan(150 + 400);
      expect(second).toBeLessThan(300 + 400);
    } finally {
      await h.stopEngine();
      await h.startEngine();
    }
  });
});
