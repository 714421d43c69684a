import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AttemptKind } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { parseIdempotencyKey } from './request-key.js';

/**
 * A scriptable, deduplicating downstream service on 127.0.0.1:<ephemeral> for the fault scenarios.
 *
 * Each request is recorded (key, attempt, arrival time, what happened to it). A script decides its behaviour:
 * a reply (any status, optionally after a delay), a connection reset (`socket.destroy()`), or a hang (no answer
 * until the client gives up). Resets and hangs may strike before or after the effect was applied — the second
 * kind loses a response whose effect happened, which only deduplication makes safe.
 *
 * Deduplication (keyed on `X-Idempotency-Key`): the first 2xx applies the key's effect and stores the answer;
 * any later request for that key that gets as far as the effect is answered from the store (a "duplicate
 * prevented") and applies nothing. So `effects()` holds at most one effect per key, and the invariant checker
 * compares them with what the database says happened.
 */

/**
 * `reply`: the service answers (a 2xx applies the effect; a key whose effect exists gets the stored answer).
 * `unavailable`: a 5xx from in front of the service (a gateway): it never reaches the effect or the store.
 * `reset`, `hang`: network faults; `afterEffect` means they strike after the effect was applied with `body`
 * as its stored 200 answer (the response is lost).
 */
export type Behaviour =
  | { type: 'reply'; status: number; body?: unknown; delayMs?: number }
  | { type: 'unavailable'; status: number; delayMs?: number }
  | { type: 'reset'; delayMs?: number; afterEffect?: boolean; body?: unknown }
  | { type: 'hang'; delayMs?: number; afterEffect?: boolean; body?: unknown };

export type Fate = 'pending' | 'answered' | 'reset' | 'hung';

export interface SeenRequest {
  /** 1-based arrival order */
  seq: number;
  path: string;
  key: string;
  runId: string | undefined;
  stepId: string | undefined;
  kind: AttemptKind | undefined;
  /** X-SagaFlow-Attempt */
  attempt: number;
  /** X-SagaFlow-Run-Id, X-SagaFlow-Step-Id and the envelope's kind: what the request says it is, key aside */
  identity?: { runId: string; stepId: string; kind: string };
  arrivedAt: number;
  body: unknown;
  fate: Fate;
  /** the status answered, when one was */
  status?: number;
  /** this request applied its key's effect */
  appliedEffect: boolean;
  /** the key's effect already existed: answered from the dedup store, nothing applied (a duplicate prevented) */
  replayed: boolean;
  /** the client went away before an answer was written (its engine died, or it timed out) */
  abandoned: boolean;
  /** when the client went away */
  abandonedAt?: number;
}

export interface Effect {
  key: string;
  /** seq of the request that applied it */
  seq: number;
  status: number;
  body: unknown;
}

/** Decides a request's behaviour; `seenForKey` is the 1-based count of requests with its key so far. */
export type Script = (request: SeenRequest, seenForKey: number) => Behaviour;

export interface ChaosDownstream {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  setScript(script: Script): void;
  requests(): SeenRequest[];
  /** the effect applied per idempotency key */
  effects(): Map<string, Effect>;
  /** requests not yet answered, reset or hung up */
  inFlight(match?: (r: SeenRequest) => boolean): SeenRequest[];
  waitForRequest(match: (r: SeenRequest) => boolean, timeoutMs?: number): Promise<SeenRequest>;
  close(): Promise<void>;
}

const OK: Behaviour = { type: 'reply', status: 200 };

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function identityOf(req: IncomingMessage, body: unknown): { identity?: SeenRequest['identity'] } {
  const runId = header(req, 'x-sagaflow-run-id');
  const stepId = header(req, 'x-sagaflow-step-id');
  const kind = typeof body === 'object' && body !== null ? (body as { kind?: unknown }).kind : undefined;
  return runId && stepId && typeof kind === 'string' ? { identity: { runId, stepId, kind } } : {};
}

export async function startChaosDownstream(): Promise<ChaosDownstream> {
  const seen: SeenRequest[] = [];
  const perKey = new Map<string, number>();
  const effects = new Map<string, Effect>();
  const open = new Set<ServerResponse>();
  let script: Script = () => OK;
  let closed = false;

  const applyEffect = (request: SeenRequest, status: number, body: unknown): Effect => {
    const effect: Effect = {
      key: request.key,
      seq: request.seq,
      status,
      body: body ?? { ok: true, key: request.key, effectSeq: request.seq },
    };
    effects.set(request.key, effect);
    request.appliedEffect = true;
    return effect;
  };

  // Like a real service, the work is done (and the effect applied) even when the client has gone away.
  const act = (request: SeenRequest, req: IncomingMessage, res: ServerResponse, behaviour: Behaviour): void => {
    if (closed) return;
    if (behaviour.type === 'unavailable') {
      request.fate = 'answered';
      request.status = behaviour.status;
      if (!res.destroyed)
        res
          .writeHead(behaviour.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'unavailable' }));
      return;
    }
    const stored = effects.get(request.key);
    const reachesEffect = behaviour.type === 'reply' || behaviour.afterEffect === true;
    if (stored && reachesEffect) request.replayed = true;
    if (behaviour.type === 'reset' || behaviour.type === 'hang') {
      if (!stored && behaviour.afterEffect) applyEffect(request, 200, behaviour.body);
      request.fate = behaviour.type === 'reset' ? 'reset' : 'hung';
      if (behaviour.type === 'reset') req.socket.destroy();
      return;
    }
    let answer = { status: behaviour.status, body: behaviour.body };
    if (stored) answer = { status: stored.status, body: stored.body };
    else if (behaviour.status >= 200 && behaviour.status < 300)
      answer = applyEffect(request, behaviour.status, behaviour.body);
    request.fate = 'answered';
    request.status = answer.status;
    if (res.destroyed) return;
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body ?? { status: answer.status }));
  };

  const server = createServer((req, res) => {
    res.on('error', () => {});
    open.add(res);
    res.on('close', () => {
      open.delete(res);
      const request = (res as ServerResponse & { seen?: SeenRequest }).seen;
      if (request && !res.writableEnded && request.fate !== 'reset') {
        request.abandoned = true;
        request.abandonedAt = Date.now();
      }
    });
    void readBody(req).then(
      (body) => {
        const key = header(req, 'x-idempotency-key') ?? '';
        const count = (perKey.get(key) ?? 0) + 1;
        perKey.set(key, count);
        const parsed = parseIdempotencyKey(key);
        const request: SeenRequest = {
          seq: seen.length + 1,
          path: new URL(req.url ?? '/', 'http://downstream').pathname,
          key,
          runId: parsed?.runId,
          stepId: parsed?.stepId,
          kind: parsed?.kind,
          attempt: Number(header(req, 'x-sagaflow-attempt')),
          ...identityOf(req, body),
          arrivedAt: Date.now(),
          body,
          fate: 'pending',
          appliedEffect: false,
          replayed: false,
          abandoned: res.destroyed,
        };
        seen.push(request);
        (res as ServerResponse & { seen?: SeenRequest }).seen = request;
        const behaviour = script(request, count);
        if (behaviour.delayMs) setTimeout(() => act(request, req, res, behaviour), behaviour.delayMs);
        else act(request, req, res, behaviour);
      },
      () => res.destroy(),
    );
  });
  server.on('connection', (socket) => socket.on('error', () => {}));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    setScript: (next) => {
      script = next;
    },
    requests: () => [...seen],
    effects: () => new Map(effects),
    inFlight: (match) => seen.filter((r) => r.fate === 'pending' && !r.abandoned && (match ? match(r) : true)),
    waitForRequest: (match, timeoutMs = 20_000) =>
      waitFor(() => seen.find(match), { timeoutMs, intervalMs: 20, description: 'a matching downstream request' }),
    close: async () => {
      closed = true;
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
