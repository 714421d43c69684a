import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A downstream that answers with raw bytes, for answers Node's http server refuses to write (statuses outside
 * 100–999 are refused there; 1xx without a final response, hundreds of KiB of headers, a body that never ends).
 * Each path answers with its script's bytes (after the request's head has arrived) and then closes the connection,
 * unless the answer says to keep it open. Every request is recorded with its SagaFlow headers.
 */

export interface RawRequest {
  path: string;
  idempotencyKey: string | undefined;
  /** X-SagaFlow-Attempt */
  attempt: number;
}

export interface RawAnswer {
  /** written as is */
  bytes: Buffer | string;
  /** keep the socket open after writing (a body that never ends, a 1xx that never gets its final answer) */
  keepOpen?: boolean;
}

export interface RawDownstream {
  readonly url: string;
  urlFor(path: string): string;
  answer(path: string, answer: RawAnswer): void;
  requests(path?: string): RawRequest[];
  close(): Promise<void>;
}

function headerOf(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

export async function startRawDownstream(): Promise<RawDownstream> {
  const answers = new Map<string, RawAnswer>();
  const recorded: RawRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const head = received.subarray(0, end).toString('latin1');
      const path = new URL(head.split(' ')[1] ?? '/', 'http://raw').pathname;
      recorded.push({
        path,
        idempotencyKey: headerOf(head, 'x-idempotency-key'),
        attempt: Number(headerOf(head, 'x-sagaflow-attempt')),
      });
      const answer = answers.get(path) ?? { bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}' };
      if (answer.keepOpen) socket.write(answer.bytes);
      else socket.end(answer.bytes);
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    urlFor: (path) => `${url}${path}`,
    answer: (path, answer) => void answers.set(path, answer),
    requests: (path) => recorded.filter((r) => path === undefined || r.path === path),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A complete HTTP/1.1 response: status line, headers, content-length and the body's bytes. */
export function rawResponse(status: number, body: Buffer | string, headers: Record<string, string> = {}): Buffer {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const lines = [`HTTP/1.1 ${status} Whatever`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  lines.push(`content-length: ${payload.length}`, 'connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}
