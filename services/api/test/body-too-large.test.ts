import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildTestApp } from './helpers.js';

/**
 * docs/contract.md#security: a body over the limit gets a 413 that the client actually receives — the connection is not reset
 * under it while the client is still sending (defect 3 of issue #11). Real sockets, many times over.
 */

const FIVE_MIB = 5 * 1024 * 1024;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db);
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

/** A JSON body of `bytes` bytes: `{"input":{"blob":"xxxx…"}}`. */
function jsonBody(bytes: number): Buffer {
  const head = '{"input":{"blob":"';
  const tail = '"}}';
  return Buffer.concat([Buffer.from(head), Buffer.alloc(bytes - head.length - tail.length, 'x'), Buffer.from(tail)]);
}

/** True once `text` holds a whole HTTP response (headers and a content-length body). */
function isCompleteResponse(text: string): boolean {
  const split = text.indexOf('\r\n\r\n');
  const length = /content-length: (\d+)/i.exec(text);
  return split >= 0 && length !== null && text.length - split - 4 >= Number(length[1]);
}

/**
 * Sends headers + body over a raw socket as fast as the socket takes it, and hangs up once the body is out and a
 * whole response is in; resolves with what came back and the socket error, if any.
 */
function rawPost(
  body: Buffer,
  extraHeaders = '',
  contentType = 'application/json',
): Promise<{ response: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let bodySent = false;
    const response = (): string => Buffer.concat(chunks).toString('latin1');
    const hangUpWhenDone = (): void => {
      if (bodySent && isCompleteResponse(response())) socket.end();
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      hangUpWhenDone();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    socket.on('close', () => resolve({ response: response(), error }));
    socket.on('connect', () => {
      socket.write(
        `POST /v1/workflows/demo/start HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${contentType}\r\n` +
          `Content-Length: ${body.length}\r\n${extraHeaders}\r\n`,
      );
      let offset = 0;
      const pump = (): void => {
        while (offset < body.length && !socket.destroyed) {
          const end = Math.min(offset + 64 * 1024, body.length);
          const more = socket.write(body.subarray(offset, end));
          offset = end;
          if (!more) {
            socket.once('drain', pump);
            return;
          }
        }
        bodySent = true;
        hangUpWhenDone();
      };
      pump();
    });
  });
}

describe('413 for a body over the limit', () => {
  it('a raw client sending 5 MiB always receives the 413 and its body, never a reset (40 times)', async () => {
    const body = jsonBody(FIVE_MIB);
    for (let i = 0; i < 40; i++) {
      const { response, error } = await rawPost(body);
      expect({ i, error, status: response.slice(0, 12) }).toEqual({ i, error: undefined, status: 'HTTP/1.1 413' });
      expect(response).toContain('"code":"PAYLOAD_TOO_LARGE"');
    }
  });

  it('also when the client asked for Connection: close (20 times)', async () => {
    const body = jsonBody(FIVE_MIB);
    for (let i = 0; i < 20; i++) {
      const { response, error } = await rawPost(body, 'Connection: close\r\n');
      expect({ i, error, status: response.slice(0, 12) }).toEqual({ i, error: undefined, status: 'HTTP/1.1 413' });
      expect(response).toContain('"code":"PAYLOAD_TOO_LARGE"');
    }
  });

  it('a 415 refused before the body is read reaches the client too (10 times each way)', async () => {
    const body = Buffer.alloc(FIVE_MIB, 'x');
    for (const extra of ['', 'Connection: close\r\n']) {
      for (let i = 0; i < 10; i++) {
        const { response, error } = await rawPost(body, extra, 'text/plain');
        expect({ i, error, status: response.slice(0, 12) }).toEqual({ i, error: undefined, status: 'HTTP/1.1 415' });
      }
    }
  });

  it('fetch (the SDK transport) posting 5 MiB gets the 413 answer (20 times)', async () => {
    const body = jsonBody(FIVE_MIB);
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/v1/workflows/demo/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/limit/) });
    }
  });

  const curl = ['/usr/bin/curl', '/bin/curl'].find((path) => existsSync(path));
  it.runIf(curl)('curl posting 5 MiB prints 413 every time (20 times)', async () => {
    const run = promisify(execFile);
    const file = join(mkdtempSync(join(tmpdir(), 'sagaflow-413-')), 'body.json');
    writeFileSync(file, jsonBody(FIVE_MIB));
    for (let i = 0; i < 20; i++) {
      const { stdout } = await run(
        curl!,
        [
          '-sS',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '-H',
          'content-type: application/json',
          '--data-binary',
          `@${file}`,
          `http://127.0.0.1:${port}/v1/workflows/demo/start`,
        ],
        { encoding: 'utf8' },
      ).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: `failed: ${error.stderr ?? ''}` }));
      expect(stdout).toBe('413');
    }
  });

  it('the connection stays usable after the 413 (keep-alive): the next request on it is answered', async () => {
    const body = jsonBody(2 * 1024 * 1024);
    const { response, error } = await new Promise<{ response: string; error?: string }>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      let error: string | undefined;
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (Buffer.concat(chunks).toString('latin1').includes('"status":"ok"')) socket.end();
      });
      socket.on('error', (e: NodeJS.ErrnoException) => void (error ??= e.code));
      socket.on('close', () => resolve({ response: Buffer.concat(chunks).toString('latin1'), error }));
      socket.write(
        `POST /v1/workflows/demo/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body);
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(error).toBeUndefined();
    expect(response.startsWith('HTTP/1.1 413')).toBe(true);
    expect(response).toContain('"status":"ok"');
  });
});
