import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { ADMIN_TOKEN, buildTestApp, makeDefinition, registerDefinition } from './helpers.js';

/**
 * Requests refused before any procedure runs — by Node's HTTP parser, Fastify's router, the NUL guard, or the access
 * check of a path no procedure serves — answer with the API's `{ code, message }` body, never Fastify's own shape and
 * never a 500; and with API keys set, nothing under /v1 (HEAD, an unknown path) answers without a valid key.
 */

const CLIENT_KEY = 'client-key-0123456789abcdef';
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let open: FastifyInstance;
let keyed: FastifyInstance;
let openUrl: string;
const definition = makeDefinition();

beforeAll(async () => {
  testDb = await createTestDatabase();
  open = buildTestApp(testDb.db);
  keyed = buildTestApp(testDb.db, {}, { SAGAFLOW_API_KEYS: `client:${CLIENT_KEY}` });
  await registerDefinition(open, definition);
  openUrl = await open.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await Promise.all([open, keyed].map((app) => app?.close()));
  await testDb?.drop();
});

/** Writes `raw` on a fresh connection and resolves with everything the server sent before closing it. */
function rawExchange(raw: string): Promise<string> {
  const { hostname, port } = new URL(openUrl);
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

function statusAndBody(response: string): { status: number; body: unknown } {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body) };
}

describe('refused by the HTTP parser or the router', () => {
  it('a malformed request is a 400 with the error body', async () => {
    const response = await rawExchange('GET /health HTTP/1.1\r\nHost: x\r\nbad header: y\r\n\r\n');
    expect(statusAndBody(response)).toEqual({
      status: 400,
      body: { code: 'BAD_REQUEST', message: 'malformed HTTP request' },
    });
  });

  it('headers over the size limit are a 431 with the error body', async () => {
    const response = await rawExchange(`GET /health HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(statusAndBody(response)).toEqual({
      status: 431,
      body: { code: 'BAD_REQUEST', message: 'the request headers exceed the maximum size' },
    });
  });

  it('a path that is not valid percent-encoding is a 400 with the error body', async () => {
    for (const url of ['/v1/runs/%ZZ', '/v1/workflows/%E0%A4%A/start']) {
      const response = await open.inject({ method: url.endsWith('start') ? 'POST' : 'GET', url });
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toEqual({
        code: 'BAD_REQUEST',
        message: expect.stringContaining('not a valid url'),
      });
    }
  });
});

describe('the NUL character in the URL', () => {
  it('is a 400 in any filter, path or stream, not a database error', async () => {
    for (const url of [
      '/v1/runs?correlationId=%00',
      '/v1/runs?idempotencyKey=a%00b',
      '/v1/runs?workflowVersion=%00',
      '/v1/runs/counts?correlationId=%00',
      `/v1/workflows/${definition.name}%00/versions/1.0.0`,
    ]) {
      const response = await open.inject({ method: 'GET', url, headers: { 'x-admin-token': ADMIN_TOKEN } });
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toEqual({
        code: 'BAD_REQUEST',
        message: 'the URL must not contain the NUL character (%00)',
      });
    }
  });
});

describe('with API keys set', () => {
  const runPath = `/v1/runs/01936f6e-0000-7000-8000-000000000000`;

  it('HEAD needs a key as GET does, and answers GET’s status without a body', async () => {
    for (const url of [runPath, '/v1/admin/operations', '/v1/admin/schedules', `${runPath}/events`]) {
      for (const headers of [{}, { authorization: 'Bearer wrong-key-0123456789abcdef' }]) {
        const head = await keyed.inject({ method: 'HEAD', url, headers });
        expect(head.statusCode, url).toBe(401);
        expect(head.body, url).toBe('');
      }
    }
    const get = await keyed.inject({ method: 'GET', url: runPath, headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    const head = await keyed.inject({
      method: 'HEAD',
      url: runPath,
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
    });
    expect(get.statusCode).toBe(404);
    expect(head.statusCode).toBe(404);
    expect(head.body).toBe('');
  });

  it('an unknown /v1 path or method is a 401 without a valid key, a 404 with one', async () => {
    for (const [method, url] of [
      ['GET', '/v1/nope'],
      ['DELETE', runPath],
      ['POST', '/v1/runs'],
    ] as const) {
      const anonymous = await keyed.inject({ method, url });
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
      expect(anonymous.json()).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
      const wrong = await keyed.inject({
        method,
        url,
        headers: { authorization: 'Bearer wrong-key-0123456789abcdef' },
      });
      expect(wrong.statusCode, `${method} ${url}`).toBe(401);
      const known = await keyed.inject({ method, url, headers: { authorization: `Bearer ${CLIENT_KEY}` } });
      expect(known.statusCode, `${method} ${url}`).toBe(404);
      expect(known.json()).toEqual({ code: 'NOT_FOUND', message: expect.any(String) });
    }
  });

  it('without keys an unknown /v1 path stays a plain 404', async () => {
    const response = await open.inject({ method: 'GET', url: '/v1/nope' });
    expect(response.statusCode).toBe(404);
  });
});
