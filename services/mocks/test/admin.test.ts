import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMocks, type RunningMocks } from '../src/index.js';
import { buildEnvelope, getJson, postEnvelope, postRaw, readEffects, readRequests } from './helpers.js';

let mocks: RunningMocks;

beforeAll(async () => {
  mocks = await startMocks({ ports: { payments: 0, inventory: 0, notifications: 0 } });
});
afterAll(async () => {
  await mocks.close();
});

describe('admin endpoints', () => {
  it('serves /health on every service', async () => {
    for (const [name, url] of Object.entries(mocks.urls)) {
      const health = await getJson(`${url}/health`);
      expect(health).toMatchObject({ status: 200, body: { status: 'ok', service: name } });
    }
  });

  it('keeps admin calls out of the request log', async () => {
    const url = mocks.urls.notifications;
    await postRaw(`${url}/__reset`, undefined);
    await getJson(`${url}/health`);
    await getJson(`${url}/__effects`);
    expect(await readRequests(url)).toEqual([]);
  });

  it('clears effects, requests, stored responses and injection counters on /__reset', async () => {
    const url = mocks.urls.payments;
    const envelope = buildEnvelope({ input: { simulate: { 'charge-payment': 'unavailable:1' } } });
    expect((await postEnvelope(`${url}/charges`, envelope)).status).toBe(503);
    const charged = await postEnvelope(`${url}/charges`, envelope);
    expect(charged.status).toBe(200);
    expect(await readEffects(url)).toHaveLength(1);

    const reset = await postRaw(`${url}/__reset`, undefined);
    expect(reset.status).toBe(204);
    expect(await readEffects(url)).toEqual([]);
    expect(await readRequests(url)).toEqual([]);

    // the counter restarted (503 again) and the stored response is gone (a new charge id)
    expect((await postEnvelope(`${url}/charges`, envelope)).status).toBe(503);
    const again = await postEnvelope(`${url}/charges`, envelope);
    expect(again.status).toBe(200);
    expect(again.body).not.toEqual(charged.body);
  });

  it('accepts /__reset with an empty JSON body', async () => {
    const reset = await postRaw(`${mocks.urls.inventory}/__reset`, '', { 'content-type': 'application/json' });
    expect(reset.status).toBe(204);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const missing = await postRaw(`${mocks.urls.payments}/nope`, '{}', { 'content-type': 'application/json' });
    expect(missing).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  });
});
