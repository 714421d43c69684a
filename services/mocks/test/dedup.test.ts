import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMocks, type RunningMocks } from '../src/index.js';
import { buildEnvelope, postEnvelope, postRaw, readEffects, readRequests, resetMocks } from './helpers.js';

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

describe('deduplication by X-Idempotency-Key', () => {
  it('answers a repeated key with the stored response and records one effect', async () => {
    const envelope = buildEnvelope({ input: { amount: 42 } });
    const first = await postEnvelope(`${mocks.urls.payments}/charges`, envelope);
    const second = await postEnvelope(
      `${mocks.urls.payments}/charges`,
      { ...envelope, attempt: 2 },
      { 'x-sagaflow-attempt': '2' },
    );

    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ amount: 42, status: 'charged' });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('x-mock-replayed')).toBe('true');

    const effects = await readEffects(mocks.urls.payments);
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatchObject({
      service: 'payments',
      operation: '/charges',
      idempotencyKey: `${String(envelope.runId)}:charge-payment`,
      runId: envelope.runId,
      stepId: 'charge-payment',
      kind: 'action',
      response: first.body,
    });
    expect(typeof effects[0]?.at).toBe('string');

    const requests = await readRequests(mocks.urls.payments);
    expect(requests.map((r) => [r.attempt, r.status, r.path])).toEqual([
      [1, 200, '/charges'],
      [2, 200, '/charges'],
    ]);
  });

  it('records an effect per distinct key, and per request without a key', async () => {
    const url = `${mocks.urls.inventory}/reservations`;
    await postEnvelope(url, buildEnvelope({ stepId: 'reserve-inventory' }));
    await postEnvelope(url, buildEnvelope({ stepId: 'reserve-inventory' }));
    await postRaw(url, JSON.stringify({ sku: 'A' }), { 'content-type': 'application/json' });
    await postRaw(url, JSON.stringify({ sku: 'A' }), { 'content-type': 'application/json' });

    const effects = await readEffects(mocks.urls.inventory);
    expect(effects).toHaveLength(4);
    expect(effects.slice(2).map((e) => e.idempotencyKey)).toEqual([null, null]);
  });

  it('derives the kind of a compensation from its key when the body does not say', async () => {
    const key = 'run-9:charge-payment:compensate';
    await postRaw(`${mocks.urls.payments}/refunds`, JSON.stringify({ chargeId: 'ch_1' }), {
      'content-type': 'application/json',
      'x-idempotency-key': key,
    });
    const [effect] = await readEffects(mocks.urls.payments);
    expect(effect).toMatchObject({ idempotencyKey: key, kind: 'compensation', response: { chargeId: 'ch_1' } });
  });
});
