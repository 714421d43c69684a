import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '../wait-for.js';
import { header, parseBody, readText, sendAnswer } from './http-exchange.js';
import { parseIdempotencyKey } from './idempotency-key.js';
import { queueScript } from './scripts.js';
import type { Behaviour, DownstreamRequest, Effect, FakeDownstream, Reply, Script } from './types.js';

/**
 * The one fake downstream of the test suites: a scriptable, deduplicating HTTP service on 127.0.0.1:<ephemeral>.
 *
 * - Every request is recorded (`requests()`): method, path, headers, body, its idempotency key and what the key
 *   names, its attempt header, arrival time, and what became of it (answered, reset, hung, abandoned by its client).
 * - A script decides each request's behaviour (see `Behaviour`): a path's own script (`script(path, ...)`, a function
 *   or a queue whose last entry repeats), else the fallback (`setScript`), else a 200. Scripts see `nth`, the count
 *   of requests with the same key, so "fail twice, then succeed" survives redeliveries and is independent per run.
 * - Failure injection: any status, delays, connection resets, hangs, gateway 5xx, and faults after the effect.
 * - Deduplication on `X-Idempotency-Key`, like the services SagaFlow expects (at least once + dedup = exactly once):
 *   the first 2xx applies the key's effect and stores its answer; every later request of that key that reaches the
 *   service gets the stored answer and applies nothing (`replayed`). `effects()` holds at most one effect per key.
 *   Like a real service, the effect happens even when the client has gone away.
 * - Holds keep a step in flight: a script's `{ type: 'hold' }` parks one request until `release(seq, reply)`;
 *   `holdPath(path)` parks every request to a path until `releasePath(path)` lets them through to their scripts.
 */
export async function startFakeDownstream(): Promise<FakeDownstream> {
  const seen: DownstreamRequest[] = [];
  const counters = new Map<string, number>();
  const effects = new Map<string, Effect>();
  const pathScripts = new Map<string, Script>();
  const defaultScript: Script = () => ({ status: 200 });
  let fallback = defaultScript;
  const heldPaths = new Set<string>();
  const parked = new Map<number, { request: DownstreamRequest; byPath: boolean; resume(reply?: Reply): void }>();
  const open = new Set<ServerResponse>();
  let closed = false;

  const applyEffect = (request: DownstreamRequest, status: number, body: unknown): Effect => {
    const stored = body ?? (status === 204 ? undefined : { ok: true, path: request.path, effectSeq: request.seq });
    const effect: Effect = { key: request.key, seq: request.seq, status, body: stored };
    effects.set(request.key, effect);
    request.appliedEffect = true;
    return effect;
  };

  const perform = (req: IncomingMessage, res: ServerResponse, request: DownstreamRequest, b: Behaviour): void => {
    if (closed || b.type === 'hold') return;
    if (b.type === 'unavailable') {
      request.fate = 'answered';
      request.status = b.status;
      sendAnswer(res, b.status, { error: 'unavailable' });
      return;
    }
    const stored = request.key === '' ? undefined : effects.get(request.key);
    const reachesEffect = b.type === undefined || b.type === 'reply' || ('afterEffect' in b && b.afterEffect === true);
    if (stored && reachesEffect) request.replayed = true;
    if (b.type === 'reset' || b.type === 'hang') {
      if (!stored && b.afterEffect && request.key !== '') applyEffect(request, 200, b.body);
      request.fate = b.type === 'reset' ? 'reset' : 'hung';
      if (b.type === 'reset') req.socket.destroy();
      return;
    }
    let answer = { status: b.status, body: b.body, headers: b.headers };
    if (stored) answer = { status: stored.status, body: stored.body, headers: undefined };
    else if (b.status >= 200 && b.status < 300 && request.key !== '')
      answer = { ...answer, body: applyEffect(request, b.status, b.body).body };
    else if (answer.body === undefined && b.status !== 204)
      answer.body = { ok: b.status < 300, path: request.path, status: b.status };
    request.fate = 'answered';
    request.status = answer.status;
    sendAnswer(res, answer.status, answer.body, answer.headers);
  };

  const park = (request: DownstreamRequest, byPath: boolean, resume: (reply?: Reply) => void): void => {
    request.fate = 'held';
    parked.set(request.seq, { request, byPath, resume });
  };

  const decideAndPerform = async (req: IncomingMessage, res: ServerResponse, request: DownstreamRequest) => {
    const behaviour = await (pathScripts.get(request.path) ?? fallback)(request, request.nth);
    if (behaviour.type === 'hold') {
      park(request, false, (reply) => perform(req, res, request, reply ?? { status: 200 }));
      return;
    }
    if (behaviour.delayMs) await delay(behaviour.delayMs);
    perform(req, res, request, behaviour);
  };

  const record = (req: IncomingMessage, res: ServerResponse, text: string, arrivedAt: number): DownstreamRequest => {
    const path = new URL(req.url ?? '/', 'http://downstream').pathname;
    const key = header(req, 'x-idempotency-key') ?? '';
    const counter = key === '' ? `path:${path}` : key;
    const nth = (counters.get(counter) ?? 0) + 1;
    counters.set(counter, nth);
    const parsed = parseIdempotencyKey(key);
    const body = parseBody(text);
    const attempt = header(req, 'x-sagaflow-attempt');
    const headerRunId = header(req, 'x-sagaflow-run-id');
    const headerStepId = header(req, 'x-sagaflow-step-id');
    const envelopeKind = typeof body === 'object' && body !== null ? (body as { kind?: unknown }).kind : undefined;
    const request: DownstreamRequest = {
      seq: seen.length + 1,
      method: req.method ?? 'GET',
      path,
      target: req.url ?? '/',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body,
      key,
      runId: parsed?.runId ?? headerRunId,
      stepId: parsed?.stepId ?? headerStepId,
      kind: parsed?.kind,
      attempt: attempt === undefined ? undefined : Number(attempt),
      ...(headerRunId && headerStepId && typeof envelopeKind === 'string'
        ? { identity: { runId: headerRunId, stepId: headerStepId, kind: envelopeKind } }
        : {}),
      nth,
      arrivedAt,
      fate: 'pending',
      appliedEffect: false,
      replayed: false,
      abandoned: res.destroyed,
      ...(res.destroyed ? { abandonedAt: Date.now() } : {}),
    };
    seen.push(request);
    return request;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const arrivedAt = Date.now(); // the headers are in: before the body, so a busy test process does not date it late
    let request: DownstreamRequest | undefined;
    open.add(res);
    res.on('close', () => {
      open.delete(res);
      if (request && !res.writableEnded && request.fate !== 'reset' && !request.abandoned) {
        request.abandoned = true;
        request.abandonedAt = Date.now();
      }
    });
    const text = await readText(req);
    const seenRequest = (request = record(req, res, text, arrivedAt));
    if (heldPaths.has(seenRequest.path)) {
      park(seenRequest, true, (reply) =>
        reply ? perform(req, res, seenRequest, reply) : void decideAndPerform(req, res, seenRequest).catch(fail(res)),
      );
      return;
    }
    await decideAndPerform(req, res, seenRequest);
  };

  const server = createServer((req, res) => {
    res.on('error', () => {});
    handle(req, res).catch(fail(res));
  });
  server.on('connection', (socket) => socket.on('error', () => {}));
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const releaseParked = (match: (entry: { request: DownstreamRequest; byPath: boolean }) => boolean): void => {
    for (const [seq, entry] of [...parked]) {
      if (!match(entry)) continue;
      parked.delete(seq);
      entry.resume();
    }
  };

  return {
    url,
    urlFor: (path) => `${url}${path}`,
    script(path, script) {
      pathScripts.set(path, Array.isArray(script) ? queueScript(script) : script);
    },
    setScript(script) {
      fallback = script;
    },
    requests: (filter = {}) =>
      seen.filter(
        (r) =>
          (filter.path === undefined || r.path === filter.path) &&
          (filter.runId === undefined || r.runId === filter.runId) &&
          (filter.key === undefined || r.key === filter.key),
      ),
    effects: () => new Map(effects),
    inFlight: (match) =>
      seen.filter((r) => (r.fate === 'pending' || r.fate === 'held') && !r.abandoned && (match ? match(r) : true)),
    waitForRequest: (match, timeoutMs = 20_000) =>
      waitFor(() => seen.find(match), { timeoutMs, intervalMs: 20, description: 'a matching downstream request' }),
    release(seq, reply = { status: 200 }) {
      const entry = parked.get(seq);
      if (!entry) throw new Error(`request ${seq} is not held`);
      parked.delete(seq);
      entry.resume(reply);
    },
    holdPath(path) {
      heldPaths.add(path);
    },
    releasePath(path) {
      if (path === undefined) heldPaths.clear();
      else heldPaths.delete(path);
      releaseParked((e) => e.byPath && (path === undefined || e.request.path === path));
    },
    heldCount: (path) => [...parked.values()].filter((e) => e.request.path === path).length,
    reset() {
      seen.length = 0;
      counters.clear();
      effects.clear();
      pathScripts.clear();
      fallback = defaultScript;
    },
    async close() {
      closed = true;
      parked.clear();
      heldPaths.clear();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await stopped;
    },
  };
}

function fail(res: ServerResponse): (error: unknown) => void {
  return (error) => {
    if (!res.headersSent && !res.destroyed) res.writeHead(500).end(String(error));
  };
}
