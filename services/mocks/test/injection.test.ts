import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMocks, type RunningMocks } from '../src/index.js';
import { buildEnvelope, getJson, postEnvelope, readEffects, readRequests, resetMocks, waitUntil } from './helpers.js';

let mocks: RunningMocks;

beforeAll(async () => {
  mocks = await startMocks({ ports: { payments: 0, inventory: 0, notifications: 0 } });
});
afterAll(async () => {
  await mocks.close();
});
beforeEach(async () => {
  await resetMocks(mocks.urls);
});

function charge(simulation: string): Record<string, unknown> {
  return buildEnvelope({ input: { amount: 10, simulate: { 'charge-payment': simulation } } });
}

describe('failure injection', () => {
  it('reject: 422 REJECTED on every attempt, no effect', async () => {
    const envelope = charge('reject');
    for (const attempt of [1, 2]) {
      const response = await postEnvelope(`${mocks.urls.payments}/charges`, { ...envelope, attempt });
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ code: 'REJECTED', message: expect.any(String) });
    }
    expect(await readEffects(mocks.urls.payments)).toEqual([]);
  });

  it('unavailable:2: 503, 503, then 200 with one effect, then the stored 200', async () => {
    const envelope = charge('unavailable:2');
    const statuses: number[] = [];
    const bodies: unknown[] = [];
    for (const attempt of [1, 2, 3, 4]) {
      const response = await postEnvelope(`${mocks.urls.payments}/charges`, { ...envelope, attempt });
      statuses.push(response.status);
      bodies.push(response.body);
    }
    expect(statuses).toEqual([503, 503, 200, 200]);
    expect(bodies[3]).toEqual(bodies[2]);
    expect(await readEffects(mocks.urls.payments)).toHaveLength(1);
    const requests = await readRequests(mocks.urls.payments);
    expect(requests.map((r) => r.status)).toEqual([503, 503, 200, 200]);
  });

  it('unavailable is counted per idempotency key', async () => {
    const first = charge('unavailable:1');
    const second = charge('unavailable:1');
    const url = `${mocks.urls.payments}/charges`;
    expect((await postEnvelope(url, first)).status).toBe(503);
    expect((await postEnvelope(url, second)).status).toBe(503);
    expect((await postEnvelope(url, first)).status).toBe(200);
    expect((await postEnvelope(url, second)).status).toBe(200);
  });

  it('hang: never answers, the client times out, and the service stays healthy', async () => {
    const envelope = charge('hang');
    const started = Date.now();
    await expect(
      postEnvelope(`${mocks.urls.payments}/charges`, envelope, {}, AbortSignal.timeout(300)),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    expect((await getJson(`${mocks.urls.payments}/health`)).status).toBe(200);
    expect(await readEffects(mocks.urls.payments)).toEqual([]);
    const requests = await readRequests(mocks.urls.payments);
    expect(requests).toEqual([expect.objectContaining({ path: '/charges', status: null })]);

    // other operations are unaffected
    const ok = await postEnvelope(`${mocks.urls.payments}/charges`, buildEnvelope());
    expect(ok.status).toBe(200);
  });

  it('slow:200: answers normally after at least 200ms', async () => {
    const started = Date.now();
    const response = await postEnvelope(`${mocks.urls.payments}/charges`, charge('slow:200'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(response).toMatchObject({ status: 200, body: { status: 'charged', amount: 10 } });
    expect(await readEffects(mocks.urls.payments)).toHaveLength(1);
  });

  it('slow: overlapping retries of one key still cause one effect', async () => {
    const envelope = charge('slow:150');
    const url = `${mocks.urls.payments}/charges`;
    const [first, second] = await Promise.all([postEnvelope(url, envelope), postEnvelope(url, envelope)]);
    expect(first.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await readEffects(mocks.urls.payments)).toHaveLength(1);
  });

  it('slow: the effect happens even when the client gives up, and the retry gets the stored response', async () => {
    const envelope = charge('slow:150');
    const url = `${mocks.urls.payments}/charges`;
    await expect(postEnvelope(url, envelope, {}, AbortSignal.timeout(50))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    await waitUntil(async () => (await readEffects(mocks.urls.payments)).length === 1);
    const [effect] = await readEffects(mocks.urls.payments);
    const retry = await postEnvelope(url, { ...envelope, attempt: 2 });
    expect(retry.body).toEqual(effect?.response);
    expect(await readEffects(mocks.urls.payments)).toHaveLength(1);
  });

  it('compensations are injected by compensationId, not by their step id', async () => {
    const runId = 'run-comp';
    const simulate = { 'charge-payment': 'reject', 'refund-payment': 'unavailable:1' };
    const refund = buildEnvelope({
      runId,
      stepId: 'charge-payment',
      kind: 'compensation',
      compensationId: 'refund-payment',
      input: { simulate },
      steps: { 'charge-payment': { output: { chargeId: 'ch_77' } } },
    });
    const url = `${mocks.urls.payments}/refunds`;
    expect((await postEnvelope(url, refund)).status).toBe(503);
    const refunded = await postEnvelope(url, { ...refund, attempt: 2 });
    expect(refunded).toMatchObject({ status: 200, body: { chargeId: 'ch_77', status: 'refunded' } });

    const [effect] = await readEffects(mocks.urls.payments);
    expect(effect).toMatchObject({ idempotencyKey: `${runId}:charge-payment:compensate`, kind: 'compensation' });
  });

  it('a compensation without compensationId is not injected', async () => {
    const refund = buildEnvelope({
      stepId: 'charge-payment',
      kind: 'compensation',
      input: { simulate: { 'charge-payment': 'reject' } },
    });
    expect((await postEnvelope(`${mocks.urls.payments}/refunds`, refund)).status).toBe(200);
  });

  it('falls back to the X-SagaFlow-Step-Id header for the operation id', async () => {
    const response = await postEnvelope(
      `${mocks.urls.notifications}/emails`,
      { input: { simulate: { 'send-confirmation-email': 'reject' } } },
      { 'x-sagaflow-step-id': 'send-confirmation-email', 'x-idempotency-key': 'run-h:send-confirmation-email' },
    );
    expect(response.status).toBe(422);
  });
});

describe('closing with requests in flight', () => {
  it('closes promptly while a request hangs and another is slow', async () => {
    const local = await startMocks({ ports: { payments: 0, inventory: 0, notifications: 0 } });
    const url = `${local.urls.payments}/charges`;
    const hanging = postEnvelope(url, charge('hang')).then(
      () => 'answered',
      () => 'failed',
    );
    const slow = postEnvelope(url, charge('slow:60000')).then(
      () => 'answered',
      () => 'failed',
    );
    await waitUntil(async () => (await readRequests(local.urls.payments)).length === 2);

    const started = Date.now();
    await local.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await hanging).toBe('failed');
    expect(await slow).toBe('failed');
  });
});
