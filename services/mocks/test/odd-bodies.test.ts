import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMocks, type RunningMocks } from '../src/index.js';
import { postRaw, readEffects, readRequests, resetMocks } from './helpers.js';

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

const json = { 'content-type': 'application/json' };

describe('odd request bodies', () => {
  it.each([
    ['no body, no content type', undefined, {}],
    ['empty JSON body', '', json],
    ['array body', '[1,2,3]', json],
    ['string body', '"hello"', json],
    ['null body', 'null', json],
    ['number body', '42', json],
    ['envelope with wrong types', '{"input":"x","steps":[],"kind":7,"stepId":{},"compensationId":null}', json],
    [
      'simulate with odd values',
      '{"stepId":"charge-payment","input":{"simulate":{"charge-payment":["reject"]}}}',
      json,
    ],
    ['text/plain', 'hello', { 'content-type': 'text/plain' }],
    ['unknown content type', '{"amount":5}', { 'content-type': 'application/x-whatever' }],
  ])('%s → 200', async (_name, body, headers) => {
    const response = await postRaw(`${mocks.urls.payments}/charges`, body, headers);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'charged' });
  });

  it('reads fields from an unknown content type that holds JSON', async () => {
    const response = await postRaw(`${mocks.urls.payments}/charges`, '{"amount":5}', {
      'content-type': 'application/x-whatever',
    });
    expect(response.body).toMatchObject({ amount: 5 });
  });

  it.each(['{bad', '{"a":', '[1,,]'])('invalid JSON %j → 400, logged, no effect', async (body) => {
    const response = await postRaw(`${mocks.urls.payments}/charges`, body, { ...json, 'x-idempotency-key': 'k:1' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'INVALID_JSON' });
    expect(await readEffects(mocks.urls.payments)).toEqual([]);
    expect(await readRequests(mocks.urls.payments)).toEqual([
      expect.objectContaining({ idempotencyKey: 'k:1', status: 400, path: '/charges' }),
    ]);
  });

  it('a body over 1 MiB → 413, not 500', async () => {
    const response = await postRaw(
      `${mocks.urls.payments}/charges`,
      JSON.stringify({ pad: 'x'.repeat(1_100_000) }),
      json,
    );
    expect(response.status).toBe(413);
  });

  it('a non-numeric attempt header is logged as null', async () => {
    await postRaw(`${mocks.urls.payments}/charges`, '{}', { ...json, 'x-sagaflow-attempt': 'first' });
    const [entry] = await readRequests(mocks.urls.payments);
    expect(entry).toMatchObject({ attempt: null, status: 200 });
  });
});
