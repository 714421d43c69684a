import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from '@sagaflow/db/testing';
import { ADMIN_TOKEN, buildTestApp, json, makeDefinition, registerDefinition } from './helpers.js';

/** docs/contract.md#security cross-site requests: 415 for non-JSON content types, 403 for cross-site browsers, curl unaffected. */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
let workflow: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db, {}, { SAGAFLOW_ALLOWED_ORIGINS: 'https://console.example.com' });
  const definition = makeDefinition();
  await registerDefinition(app, definition);
  workflow = definition.name;
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

const cancelUrl = () => `/v1/runs/${randomUUID()}/cancel`;
const retryUrl = () => `/v1/runs/${randomUUID()}/steps/charge-payment/retry`;

describe('content types of mutating requests', () => {
  const refused = [
    ['text/plain', ''],
    ['text/plain;charset=UTF-8', '{"input":{}}'],
    ['application/x-www-form-urlencoded', 'input=1'],
    ['multipart/form-data; boundary=x', '--x--'],
    ['TEXT/PLAIN', '{"input":{}}'],
    ['Application/X-WWW-Form-Urlencoded', 'input=1'],
    ['application/jsonp', '{"input":{}}'],
  ] as const;

  it.each(refused)('%s is refused with 415 on start, cancel, retry and register', async (type, payload) => {
    for (const url of [`/v1/workflows/${workflow}/start`, cancelUrl(), retryUrl(), '/v1/admin/workflows']) {
      const response = await app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': type, 'x-admin-token': ADMIN_TOKEN },
        payload,
      });
      expect({ url, status: response.statusCode }).toEqual({ url, status: 415 });
      expect(json(response)).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.any(String) });
    }
  });

  it('a bodiless POST with no content type (curl -X POST) still works', async () => {
    const response = await app.inject({ method: 'POST', url: cancelUrl() });
    expect(response.statusCode).toBe(404); // reached the procedure: the run does not exist
    expect(json(response).code).toBe('NOT_FOUND');
  });

  it('application/json with a charset works', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/v1/workflows/${workflow}/start`,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify({ input: { orderId: 'o-1' } }),
    });
    expect(response.statusCode).toBe(202);
  });

  it('the media type is case-insensitive: APPLICATION/JSON works on start, register and a bodiless cancel', async () => {
    const definition = makeDefinition();
    for (const type of ['APPLICATION/JSON', 'Application/Json; Charset=UTF-8']) {
      const started = await app.inject({
        method: 'POST',
        url: `/v1/workflows/${workflow}/start`,
        headers: { 'content-type': type },
        payload: JSON.stringify({ input: { orderId: 'o-1' } }),
      });
      expect({ type, status: started.statusCode }, started.body).toEqual({ type, status: 202 });
      const registered = await app.inject({
        method: 'POST',
        url: '/v1/admin/workflows',
        headers: { 'content-type': type, 'x-admin-token': ADMIN_TOKEN },
        payload: JSON.stringify(definition),
      });
      expect({ type, status: registered.statusCode }, registered.body).toEqual({
        type,
        status: type === 'APPLICATION/JSON' ? 201 : 200,
      });
      const cancelled = await app.inject({ method: 'POST', url: cancelUrl(), headers: { 'content-type': type } });
      expect({ type, code: json(cancelled).code }).toEqual({ type, code: 'NOT_FOUND' });
    }
    // the cross-site rules still apply to it
    const crossSite = await app.inject({
      method: 'POST',
      url: `/v1/workflows/${workflow}/start`,
      headers: { 'content-type': 'APPLICATION/JSON', origin: 'https://evil.example' },
      payload: JSON.stringify({ input: { orderId: 'o-1' } }),
    });
    expect(crossSite.statusCode).toBe(403);
  });
});

describe('cross-site browsers', () => {
  it('Sec-Fetch-Site: cross-site is refused with 403 on every mutating endpoint, GET is not', async () => {
    for (const url of [`/v1/workflows/${workflow}/start`, cancelUrl(), retryUrl(), '/v1/admin/workflows']) {
      const response = await app.inject({ method: 'POST', url, headers: { 'sec-fetch-site': 'cross-site' } });
      expect({ url, status: response.statusCode }).toEqual({ url, status: 403 });
      expect(json(response)).toEqual({ code: 'FORBIDDEN', message: expect.stringMatching(/cross-site/) });
    }
    const read = await app.inject({ method: 'GET', url: '/health', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(read.statusCode).toBe(200);
  });

  it('same-origin, same-site and none pass', async () => {
    for (const site of ['same-origin', 'same-site', 'none']) {
      const response = await app.inject({ method: 'POST', url: cancelUrl(), headers: { 'sec-fetch-site': site } });
      expect(response.statusCode).toBe(404);
    }
  });

  it('a foreign Origin (or "null") is refused with 403; the API own origin and SAGAFLOW_ALLOWED_ORIGINS pass', async () => {
    for (const origin of ['http://evil.example', 'null', 'http://localhost:8080', 'https://console.example.com.evil']) {
      const response = await app.inject({ method: 'POST', url: cancelUrl(), headers: { origin } });
      expect({ origin, status: response.statusCode }).toEqual({ origin, status: 403 });
      expect(json(response).code).toBe('FORBIDDEN');
    }
    for (const origin of ['http://localhost', 'http://localhost:80', 'https://console.example.com']) {
      const response = await app.inject({ method: 'POST', url: cancelUrl(), headers: { origin } });
      expect({ origin, status: response.statusCode }).toEqual({ origin, status: 404 });
    }
    const register = await app.inject({
      method: 'POST',
      url: '/v1/admin/workflows',
      headers: { origin: 'http://evil.example', 'x-admin-token': ADMIN_TOKEN },
      payload: makeDefinition(),
    });
    expect(register.statusCode).toBe(403);
  });
});
