import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * A scriptable downstream service on 127.0.0.1:<ephemeral> for engine tests.
 *
 * - Every request is recorded as `{ method, path, headers, body, at, ... }` (body parsed as JSON when it is JSON).
 * - Each path answers by its script: a function `(req, nth) => ScriptedResponse`, where `nth` is the 1-based count
 *   of requests seen so far with the same `x-idempotency-key` (so "fail twice, then succeed" survives redeliveries
 *   and is independent per run), or a fixed queue of responses (the last one repeats once the queue is empty).
 *   Paths without a script answer `200 { ok: true, path }`.
 * - `hold(path)` parks every request to that path until `release(path)`; parked requests then get their scripted
 *   answer. Use it to keep a step in flight.
 * - `close()` ends everything, including hung and parked requests.
 */

export interface RecordedRequest {
  method: string;
  /** path without the query string */
  path: string;
  /** the request target as sent: path and query, still percent-encoded */
  target: string;
  headers: IncomingHttpHeaders;
  /** parsed JSON, the raw text when it is not JSON, undefined when empty */
  body: unknown;
  /** Date.now() when the request arrived (before any hold) */
  at: number;
  idempotencyKey: string | undefined;
  /** x-sagaflow-run-id */
  runId: string | undefined;
  /** x-sagaflow-attempt as a number */
  attempt: number | undefined;
  /** 1-based count of requests with this idempotency key (or to this path when there is none) */
  nth: number;
}

export interface ScriptedResponse {
  status: number;
  /** sent as JSON unless it is a string */
  body?: unknown;
  headers?: Record<string, string>;
  /** wait this long before answering */
  delayMs?: number;
  /** never answer (the client's timeout ends it, or close()) */
  hang?: boolean;
}

export type ResponseScript = (req: RecordedRequest, nth: number) => ScriptedResponse | Promise<ScriptedResponse>;

export interface Downstream {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** absolute url of a path on this server */
  urlFor(path: string): string;
  /** Sets how `path` answers: a function, or a queue of responses whose last entry repeats. */
  script(path: string, script: ResponseScript | ScriptedResponse[]): void;
  /** Recorded requests, oldest first, optionally only those of one path and/or one run. */
  requests(filter?: { path?: string; runId?: string }): RecordedRequest[];
  /** Parks requests to `path` until released. */
  hold(path: string): void;
  /** Lets parked requests of `path` (every path when omitted) through and stops holding it. */
  release(path?: string): void;
  /** How many requests are parked at `path` right now. */
  heldCount(path: string): number;
  /** Forgets recorded requests, scripts and per-key counters (keeps the server). */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_RESPONSE = (path: string): ScriptedResponse => ({ status: 200, body: { ok: true, path } });

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Turns a fixed queue into a script: one response per call, the last one repeating. */
export function queueScript(responses: ScriptedResponse[]): ResponseScript {
  if (responses.length === 0) throw new Error('a response queue needs at least one response');
  const queue = [...responses];
  return () => (queue.length > 1 ? queue.shift()! : queue[0]!);
}

/** A script answering `statuses[nth - 1]` per idempotency key (the last status repeats): `statusesByAttempt(503, 503, 200)`. */
export function statusesByAttempt(...statuses: number[]): ResponseScript {
  return (req, nth) => {
    const status = statuses[Math.min(nth, statuses.length) - 1]!;
    return { status, body: status < 300 ? { ok: true, path: req.path, nth } : { error: `scripted ${status}` } };
  };
}

export async function startDownstream(): Promise<Downstream> {
  const recorded: RecordedRequest[] = [];
  const scripts = new Map<string, ResponseScript>();
  const counters = new Map<string, number>();
  const held = new Set<string>();
  const parked = new Map<string, Array<() => void>>();
  const open = new Set<ServerResponse>();
  let closed = false;

  const waitIfHeld = (path: string): Promise<void> | undefined => {
    if (!held.has(path)) return undefined;
    return new Promise((resolve) => {
      const list = parked.get(path) ?? [];
      list.push(resolve);
      parked.set(path, list);
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    open.add(res);
    res.once('close', () => open.delete(res));
    const text = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const key = header(req.headers, 'x-idempotency-key');
    const counterKey = key ?? `path:${path}`;
    const nth = (counters.get(counterKey) ?? 0) + 1;
    counters.set(counterKey, nth);
    const attempt = header(req.headers, 'x-sagaflow-attempt');
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      target: req.url ?? '/',
      headers: req.headers,
      body: parseBody(text),
      at: Date.now(),
      idempotencyKey: key,
      runId: header(req.headers, 'x-sagaflow-run-id'),
      attempt: attempt === undefined ? undefined : Number(attempt),
      nth,
    };
    recorded.push(record);

    await waitIfHeld(path);
    if (closed) return;
    const script = scripts.get(path);
    const answer = script ? await script(record, nth) : DEFAULT_RESPONSE(path);
    if (answer.hang) return; // the client times out; close() destroys the socket
    if (answer.delayMs) await delay(answer.delayMs);
    if (closed || res.destroyed) return;
    const isText = typeof answer.body === 'string';
    const payload = answer.body === undefined ? '' : isText ? (answer.body as string) : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      ...(payload === '' ? {} : { 'content-type': isText ? 'text/plain' : 'application/json' }),
      ...answer.headers,
    });
    res.end(payload);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) res.writeHead(500).end(String(error));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const releasePath = (path: string): void => {
    held.delete(path);
    for (const resolve of parked.get(path) ?? []) resolve();
    parked.delete(path);
  };

  return {
    url,
    urlFor: (path) => `${url}${path}`,
    script(path, script) {
      scripts.set(path, Array.isArray(script) ? queueScript(script) : script);
    },
    requests(filter = {}) {
      return recorded.filter(
        (r) =>
          (filter.path === undefined || r.path === filter.path) &&
          (filter.runId === undefined || r.runId === filter.runId),
      );
    },
    hold(path) {
      held.add(path);
    },
    release(path) {
      for (const p of path === undefined ? [...held, ...parked.keys()] : [path]) releasePath(p);
    },
    heldCount: (path) => parked.get(path)?.length ?? 0,
    reset() {
      recorded.length = 0;
      scripts.clear();
      counters.clear();
    },
    async close() {
      closed = true;
      for (const p of [...held, ...parked.keys()]) releasePath(p);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await stopped;
    },
  };
}
