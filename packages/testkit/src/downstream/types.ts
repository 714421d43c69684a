import type { IncomingHttpHeaders } from 'node:http';
import type { RequestKind } from './idempotency-key.js';

/** What happened to a request so far. */
export type Fate = 'pending' | 'held' | 'answered' | 'reset' | 'hung';

/** One request as the fake downstream saw it. */
export interface DownstreamRequest {
  /** 1-based arrival order */
  seq: number;
  method: string;
  /** the path without the query string */
  path: string;
  /** the request target as sent: path and query, still percent-encoded */
  target: string;
  headers: IncomingHttpHeaders;
  /** raw header lines (name, value, name, value, ...): shows a header sent twice */
  rawHeaders: string[];
  /** parsed JSON, the raw text when it is not JSON, undefined when empty */
  body: unknown;
  /** X-Idempotency-Key ('' when absent) */
  key: string;
  /** what the key names (undefined when it is not a SagaFlow key) */
  runId: string | undefined;
  stepId: string | undefined;
  kind: RequestKind | undefined;
  /** X-SagaFlow-Attempt as a number */
  attempt: number | undefined;
  /** X-SagaFlow-Run-Id, X-SagaFlow-Step-Id and the envelope's kind: what the request says it is, key aside */
  identity?: { runId: string; stepId: string; kind: string };
  /** 1-based count of requests with this key so far (to this path when there is no key) */
  nth: number;
  /** Date.now() when its headers arrived (before its body, any hold or delay) */
  arrivedAt: number;
  fate: Fate;
  /** the status answered, when one was */
  status?: number;
  /** this request applied its key's effect */
  appliedEffect: boolean;
  /** the key's effect already existed: answered from the dedup store, nothing applied (a duplicate prevented) */
  replayed: boolean;
  /** the client went away before an answer was written (its engine died, or it timed out) */
  abandoned: boolean;
  abandonedAt?: number;
}

/** An answer. A 2xx applies the key's effect, unless the key has one: then the stored answer is sent instead. */
export interface Reply {
  type?: 'reply';
  status: number;
  /** sent as JSON unless it is a string; omitted: `{ ok, path, ... }` (nothing for 204) */
  body?: unknown;
  headers?: Record<string, string>;
  /** answer this long after the decision (a slow service, not test synchronisation) */
  delayMs?: number;
}

/**
 * How the service treats a request: a reply; `unavailable`, a 5xx from in front of the service (a gateway) that
 * never reaches the effect or the store; `reset` (the connection is destroyed) and `hang` (never answered until the
 * client gives up), which with `afterEffect` strike after the effect was applied with `body` as its stored 200
 * answer (a lost response); `hold`, parked until the test calls `release(seq, reply)`.
 */
export type Behaviour =
  | Reply
  | { type: 'unavailable'; status: number; delayMs?: number }
  | { type: 'reset'; delayMs?: number; afterEffect?: boolean; body?: unknown }
  | { type: 'hang'; delayMs?: number; afterEffect?: boolean; body?: unknown }
  | { type: 'hold' };

/** Decides a request's behaviour; `nth` is its 1-based count among requests with the same key. */
export type Script = (request: DownstreamRequest, nth: number) => Behaviour | Promise<Behaviour>;

/** The effect a key's first successful request applied, and the answer stored for its repeats. */
export interface Effect {
  key: string;
  /** seq of the request that applied it */
  seq: number;
  status: number;
  body: unknown;
}

export interface RequestFilter {
  path?: string;
  runId?: string;
  key?: string;
}

/**
 * A scriptable, deduplicating HTTP service on 127.0.0.1:<ephemeral> that stands in for every downstream a saga
 * calls in tests. See fake-downstream.ts.
 */
export interface FakeDownstream {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** absolute url of a path on this server */
  urlFor(path: string): string;
  /** How requests to `path` behave: a script, or a queue whose last entry repeats. Wins over `setScript`. */
  script(path: string, script: Script | Behaviour[]): void;
  /** How requests to paths without their own script behave (default: a 200). */
  setScript(script: Script): void;
  /** Recorded requests, oldest first, optionally only those of one path, run or key. */
  requests(filter?: RequestFilter): DownstreamRequest[];
  /** the effect applied per idempotency key */
  effects(): Map<string, Effect>;
  /** requests not yet answered, reset or hung up (held ones included), whose client is still there */
  inFlight(match?: (r: DownstreamRequest) => boolean): DownstreamRequest[];
  /** polls until a request matching `match` has arrived */
  waitForRequest(match: (r: DownstreamRequest) => boolean, timeoutMs?: number): Promise<DownstreamRequest>;
  /** Answers a held request (`reply`, default 200); the effect happens even when its client is gone. */
  release(seq: number, reply?: Reply): void;
  /** Parks every request to `path` from now on, until `releasePath`. */
  holdPath(path: string): void;
  /** Stops holding `path` (every path when omitted) and lets its parked requests through to their scripts. */
  releasePath(path?: string): void;
  /** How many requests to `path` are parked right now. */
  heldCount(path: string): number;
  /** Forgets requests, effects, scripts and per-key counters (keeps the server). */
  reset(): void;
  /** Stops the server, dropping held, hung and open requests. */
  close(): Promise<void>;
}
