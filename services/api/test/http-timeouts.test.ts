import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildTestApp } from './helpers.js';

/** Slow clients cannot hold a connection open forever (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS). */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db, {}, { HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1500' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

/** Writes `text` (then `body`, when given) and never finishes the request; resolves when the server closes, with what it answered and when. */
function stall(text: string, body?: Buffer): Promise<{ response: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ response: Buffer.concat(chunks).toString('latin1'), ms: Date.now() - started }));
    socket.write(text);
    if (body) socket.write(body);
  });
}

describe('HTTP timeouts', () => {
  it('a client that never finishes its headers gets 408 and is disconnected after the headers timeout', async () => {
    const { response, ms } = await stall('POST /v1/workflows/demo/start HTTP/1.1\r\nHost: x\r\n');
    expect(response.startsWith('HTTP/1.1 408')).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(4_000);
  });

  it('a client that never finishes its body is disconnected after the request timeout', async () => {
    const { response, ms } = await stall(
      'POST /v1/workflows/demo/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"input":',
    );
    expect(response.startsWith('HTTP/1.1 408')).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(1_400);
    expect(ms).toBeLessThan(5_000);
  });

  it('a refused body (413) is discarded only until the request timeout: a client that stalls is dropped', async () => {
    const { response, ms } = await stall(
      'POST /v1/workflows/demo/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5242880\r\n\r\n',
      Buffer.alloc(2 * 1024 * 1024, 'x'),
    );
    expect(response.startsWith('HTTP/1.1 413')).toBe(true);
    expect(ms).toBeLessThan(6_000);
  });

  it('the server carries the configured settings', () => {
    expect(app.server.headersTimeout).toBe(500);
    expect(app.server.requestTimeout).toBe(1_500);
    expect(app.server.keepAliveTimeout).toBe(72_000);
    expect(app.server.timeout).toBe(90_000);
  });
});
