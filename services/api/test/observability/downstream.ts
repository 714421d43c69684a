import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the downstream received. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** raw header lines (name, value, name, value, ...): shows a header sent twice */
  rawHeaders: string[];
}

export interface Answer {
  status: number;
  body?: unknown;
  /** answer after this long */
  delayMs?: number;
}

/** How a path answers; `nth` counts requests with the same x-idempotency-key (1-based). */
export type Answering = (path: string, nth: number) => Answer;

export interface RecordingDownstream {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly received: ReceivedRequest[];
  close(): Promise<void>;
}

/** A downstream service on loopback that records every request and answers as `answering` says. */
export async function startRecordingDownstream(answering: Answering): Promise<RecordingDownstream> {
  const received: ReceivedRequest[] = [];
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      received.push({ path, headers: req.headers, rawHeaders: req.rawHeaders });
      const key = String(req.headers['x-idempotency-key'] ?? path);
      const nth = (counts.get(key) ?? 0) + 1;
      counts.set(key, nth);
      const answer = answering(path, nth);
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body ?? { ok: answer.status < 300, path }));
      }, answer.delayMs ?? 0);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
