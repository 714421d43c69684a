import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { ADMIN_TOKEN, buildTestApp, json, makeDefinition, registerDefinition, startRun } from './helpers.js';

/**
 * Headers of every answer (docs/security.md): `x-content-type-options: nosniff` everywhere, `cache-control: no-store`
 * on every /v1 answer (runs carry input and outputs) — successes, refusals before any route, the event stream — while
 * /ui and /docs keep their own caching.
 */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
let base: string;
let consoleDir: string;
let runId: string;
const definition = makeDefinition();

beforeAll(async () => {
  testDb = await createTestDatabase();
  consoleDir = mkdtempSync(join(tmpdir(), 'sagaflow-console-'));
  mkdirSync(join(consoleDir, 'assets'));
  writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><html><body></body></html>');
  writeFileSync(join(consoleDir, 'assets', 'index-abc123.js'), 'console.info("console");');
  app = buildTestApp(testDb.db, {}, { SAGAFLOW_CONSOLE_DIR: consoleDir, BODY_LIMIT: '1024' });
  await registerDefinition(app, definition);
  runId = json<{ runId: string }>(await startRun(app, definition.name, { input: { email: 'a@example.com' } })).runId;
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
  if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
});

function expectV1Headers(response: LightMyRequestResponse, what: string): void {
  expect(
    { what, nosniff: response.headers['x-content-type-options'], cache: response.headers['cache-control'] },
    response.body,
  ).toEqual({ what, nosniff: 'nosniff', cache: 'no-store' });
}

describe('/v1 answers', () => {
  it('a run read (input, outputs) and every other /v1 success: nosniff and no-store', async () => {
    const run = await app.inject({ method: 'GET', url: `/v1/runs/${runId}` });
    expect(run.statusCode).toBe(200);
    expect(run.body).toContain('a@example.com');
    expect(run.headers['content-type']).toMatch(/^application\/json/);
    expectV1Headers(run, 'run');
    for (const url of [
      `/v1/runs/${runId}/events`,
      '/v1/runs?limit=1',
      '/v1/runs/counts',
      '/v1/workflows',
      '/v1/whoami',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expectV1Headers(response, url);
    }
    const head = await app.inject({ method: 'HEAD', url: `/v1/runs/${runId}` });
    expectV1Headers(head, 'HEAD');
  });

  it('every refusal under /v1 too, including those answered before any route runs', async () => {
    const refusals: Array<[string, InjectOptions, number]> = [
      ['unknown path', { method: 'GET', url: '/v1/nope' }, 404],
      ['unknown run', { method: 'GET', url: '/v1/runs/01939d2c-0000-7000-8000-000000000000' }, 404],
      ['bad input', { method: 'GET', url: '/v1/runs/not-a-uuid' }, 400],
      ['bad percent-encoding (router)', { method: 'GET', url: '/v1/runs/%ZZ' }, 400],
      ['NUL in the URL', { method: 'GET', url: '/v1/runs?correlationId=%00' }, 400],
      ['no admin token', { method: 'GET', url: '/v1/admin/operations' }, 401],
      [
        'wrong admin token',
        { method: 'GET', url: '/v1/admin/operations', headers: { 'x-admin-token': 'wrong-token-0123456789' } },
        401,
      ],
      [
        'text/plain',
        { method: 'POST', url: `/v1/runs/${runId}/cancel`, headers: { 'content-type': 'text/plain' }, payload: 'x' },
        415,
      ],
      [
        'cross-site',
        { method: 'POST', url: `/v1/runs/${runId}/cancel`, headers: { 'sec-fetch-site': 'cross-site' } },
        403,
      ],
      [
        'invalid JSON',
        {
          method: 'POST',
          url: `/v1/workflows/${definition.name}/start`,
          headers: { 'content-type': 'application/json' },
          payload: '{',
        },
        400,
      ],
      [
        'body too large',
        {
          method: 'POST',
          url: `/v1/workflows/${definition.name}/start`,
          headers: { 'x-admin-token': ADMIN_TOKEN },
          payload: { input: { pad: 'x'.repeat(2000) } },
        },
        413,
      ],
    ];
    for (const [what, request, status] of refusals) {
      const response = await app.inject(request);
      expect({ what, status: response.statusCode }).toEqual({ what, status });
      expectV1Headers(response, what);
    }
  });

  it('the event stream keeps its own head (text/event-stream, no-transform, unbuffered), with no-store and nosniff', async () => {
    const stop = new AbortController();
    const response = await fetch(`${base}/v1/runs/${runId}/events/stream`, { signal: stop.signal });
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    expect(response.headers.get('x-correlation-id')).toBeTruthy();
    stop.abort();
    await response.body?.cancel().catch(() => {});
  });
});

describe('other answers', () => {
  it('/health, /ready, /metrics, /openapi.json: nosniff, no cache-control of ours', async () => {
    for (const url of ['/health', '/ready', '/metrics', '/openapi.json']) {
      const response = await app.inject({ method: 'GET', url });
      expect({ url, nosniff: response.headers['x-content-type-options'] }).toEqual({ url, nosniff: 'nosniff' });
      expect(response.headers['cache-control'], url).toBeUndefined();
    }
  });

  it('/ui and /docs keep their own caching headers', async () => {
    const index = await app.inject({ method: 'GET', url: '/ui/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const asset = await app.inject({ method: 'GET', url: '/ui/assets/index-abc123.js' });
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // the file server's own conditional answer still works
    const again = await app.inject({
      method: 'GET',
      url: '/ui/assets/index-abc123.js',
      headers: { 'if-none-match': String(asset.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    const docs = await app.inject({ method: 'GET', url: '/docs' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['cache-control']).not.toBe('no-store');
    expect(docs.headers['x-content-type-options']).toBe('nosniff');
  });

  it("a request Node's HTTP parser refuses: nosniff on the hand-written answer", async () => {
    const { hostname, port } = new URL(base);
    const received = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(Number(port), hostname, () =>
        socket.write('GET /v1/runs HTTP/1.1\r\nHost: x\r\nbad header: y\r\n\r\n'),
      );
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    expect(received).toMatch(/^HTTP\/1\.1 400 /);
    expect(received.split('\r\n\r\n')[0]).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/i);
  });
});
