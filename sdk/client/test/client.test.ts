import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SagaFlowError, SagaFlowTimeoutError, createClient } from '../src/index.js';

/** A loopback HTTP server standing in for the API, so the client's HTTP handling is tested for real. */

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const RUN_ID = '5b0e2a34-8f4c-4b8e-9d7a-3c1f2e4d5a6b';
let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
let getCount = 0;

function runView(status: string) {
  const now = new Date().toISOString();
  return {
    run: {
      runId: RUN_ID,
      workflowName: 'order-processing',
      workflowVersion: '1.0.0',
      status,
      error: null,
      input: {},
      context: {},
      correlationId: 'c-1',
      createdAt: now,
      updatedAt: now,
      completedAt: null,
    },
    steps: [],
  };
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function route(req: Seen, res: ServerResponse): void {
  if (req.url === '/v1/workflows/order-processing/start') {
    reply(
      res,
      202,
      { runId: RUN_ID, status: 'PENDING' },
      { 'x-correlation-id': (req.headers['x-correlation-id'] as string) ?? 'generated' },
    );
  } else if (req.url === '/v1/workflows/bad/start') {
    reply(res, 400, {
      code: 'BAD_REQUEST',
      message: 'Input validation failed',
      issues: [{ code: 'invalid_type', path: ['input'], message: 'x' }],
    });
  } else if (req.url === `/v1/runs/${RUN_ID}`) {
    getCount += 1;
    reply(res, 200, runView(getCount >= 3 ? 'COMPLETED' : 'RUNNING'));
  } else if (req.url === `/v1/runs/${RUN_ID}/cancel`) {
    reply(res, 409, { code: 'CONFLICT', message: 'run is COMPLETED' });
  } else if (req.url === '/v1/admin/workflows') {
    if (req.headers['x-admin-token'] !== 'secret-token') reply(res, 401, { code: 'UNAUTHORIZED', message: 'no' });
    else reply(res, 429, { code: 'TOO_MANY_REQUESTS', message: 'slow down' }, { 'retry-after': '7' });
  } else if (req.url === '/v1/runs/00000000-0000-4000-8000-000000000000') {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway');
  } else {
    reply(res, 200, runView('RUNNING'));
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(entry);
      route(entry, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

describe('createClient', () => {
  it('starts a run with idempotency and correlation headers and returns the correlation id', async () => {
    const client = createClient({ baseUrl });
    const started = await client.workflows.start(
      'order-processing',
      { input: { orderId: 'o-1' } },
      { idempotencyKey: 'key-1', correlationId: 'corr-1' },
    );
    expect(started).toEqual({ runId: RUN_ID, status: 'PENDING', correlationId: 'corr-1' });
    const request = seen.find((s) => s.url === '/v1/workflows/order-processing/start')!;
    expect(request.headers['idempotency-key']).toBe('key-1');
    expect(request.headers['x-admin-token']).toBeUndefined();
    expect(JSON.parse(request.body)).toEqual({ input: { orderId: 'o-1' } });
  });

  it('sends the admin token on every call when it is the only credential, on admin calls only beside a key', async () => {
    await createClient({ baseUrl, adminToken: 'secret-token' }).runs.get(RUN_ID);
    const alone = seen.filter((s) => s.url === `/v1/runs/${RUN_ID}`).at(-1)!;
    expect(alone.headers['x-admin-token']).toBe('secret-token');
    expect(alone.headers.authorization).toBeUndefined();
    await createClient({ baseUrl, adminToken: 'secret-token', apiKey: 'client-key' }).runs.get(RUN_ID);
    const beside = seen.filter((s) => s.url === `/v1/runs/${RUN_ID}`).at(-1)!;
    expect(beside.headers['x-admin-token']).toBeUndefined();
    expect(beside.headers.authorization).toBe('Bearer client-key');
  });

  it('throws SagaFlowError with status, code, message and issues on a 400', async () => {
    const client = createClient({ baseUrl });
    const error = await client.workflows.start('bad', { input: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SagaFlowError);
    expect(error).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: 'Input validation failed' });
    expect((error as SagaFlowError).issues).toHaveLength(1);
  });

  it('throws on 409, on 401 without a token, and carries Retry-After on 429', async () => {
    await expect(createClient({ baseUrl }).runs.cancel(RUN_ID)).rejects.toMatchObject({
      status: 409,
      code: 'CONFLICT',
    });
    const definition = { name: 'x', version: '1.0.0', steps: [] };
    await expect(createClient({ baseUrl }).admin.workflows.register(definition)).rejects.toMatchObject({ status: 401 });
    await expect(
      createClient({ baseUrl, adminToken: 'secret-token' }).admin.workflows.register(definition),
    ).rejects.toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 7 });
  });

  it('turns a non-JSON error body into a SagaFlowError too', async () => {
    const client = createClient({ baseUrl });
    await expect(client.runs.get('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      status: 502,
      code: 'HTTP_502',
    });
  });

  it('waits for a terminal run, and rejects with SagaFlowTimeoutError when it never ends', async () => {
    getCount = 0;
    const client = createClient({ baseUrl });
    const view = await client.runs.waitForCompletion(RUN_ID, { timeoutMs: 5000, intervalMs: 10 });
    expect(view.run.status).toBe('COMPLETED');
    const other = '6c1f3b45-9a5d-4c9f-8e8b-4d2a3f5e6b7c';
    await expect(client.runs.waitForCompletion(other, { timeoutMs: 50, intervalMs: 10 })).rejects.toBeInstanceOf(
      SagaFlowTimeoutError,
    );
  });

  it('uses a custom fetch through a URL + init call', async () => {
    const calls: string[] = [];
    const customFetch: typeof fetch = (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    };
    const client = createClient({ baseUrl: `${baseUrl}/`, fetch: customFetch });
    await client.workflows.start('order-processing', { input: { a: 1 } });
    expect(calls).toEqual([`${baseUrl}/v1/workflows/order-processing/start`]);
  });
});
