// @sagaflow/observability: W3C trace context, used by services/api (start) and services/engine (attempts).
import { randomFillSync } from 'node:crypto';
import { createTraceState, type SpanContext } from '@opentelemetry/api';

/** W3C trace context (traceparent/tracestate) ↔ OpenTelemetry span contexts. Pure apart from random ids. */

const TRACE_PARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * Random ids as hex, drawn from a pool refilled 4 KiB at a time: one randomBytes(8) call cost 13–28 µs here (it was
 * 4 % of the engine's CPU under burst, one per attempt), a slice of the pool well under 1 µs. The same CSPRNG bytes,
 * fetched in bulk, as crypto.randomUUID does.
 */
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

/** `bytes` random bytes as 2 × bytes hex digits. */
export function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

/** The headers an attempt carries to continue a trace. */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

/** The remote span context a stored traceparent (+ tracestate) stands for; undefined when absent or invalid. */
export function parseTraceParent(
  traceParent: string | null | undefined,
  traceState?: string | null,
): SpanContext | undefined {
  const match = traceParent ? TRACE_PARENT.exec(traceParent) : null;
  if (!match || match[1] === ZERO_TRACE_ID || match[2] === ZERO_SPAN_ID) return undefined;
  return {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    isRemote: true,
    ...(traceState ? { traceState: createTraceState(traceState) } : {}),
  };
}

/** The W3C headers of a span context. */
export function formatTraceHeaders(context: SpanContext): TraceHeaders {
  const traceparent = `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const tracestate = context.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/**
 * A new trace context (fresh trace id and span id, sampled): what a run is started under when neither a caller's
 * `traceparent` nor a request span gives it one, so every attempt of the run shares one trace id.
 */
export function newTraceParent(): string {
  return `00-${randomHex(16)}-${randomHex(8)}-01`;
}

/**
 * Without a tracer (tracing off): a traceparent that keeps the run's trace id with a fresh span id each time, so a
 * downstream can still group a run's attempts by trace id. Without a valid parent, `fallbackTraceId` (32 hex digits,
 * e.g. the run id's) keeps the attempts of one run together; a fresh trace id only when there is neither.
 */
export function childTraceParent(parent: string | null | undefined, fallbackTraceId?: string): string {
  const match = parent ? TRACE_PARENT.exec(parent) : null;
  const fallback = fallbackTraceId && /^[0-9a-f]{32}$/.test(fallbackTraceId) && fallbackTraceId !== ZERO_TRACE_ID;
  const traceId = match && match[1] !== ZERO_TRACE_ID ? match[1]! : fallback ? fallbackTraceId : randomHex(16);
  return `00-${traceId}-${randomHex(8)}-${match?.[3] ?? '01'}`;
}

/**
 * True when an undici request already has a `traceparent` header: the engine's attempts set their own (the attempt
 * span's), so the undici instrumentation must not add a second one. `headers` is undici's request header list
 * (`[name, value, ...]`) or, in old versions, a `name: value\r\n` string.
 */
export function carriesTraceParent(headers: string | ReadonlyArray<string | string[]> | undefined): boolean {
  if (typeof headers === 'string') return /(^|\r\n)traceparent\s*:/i.test(headers);
  if (!Array.isArray(headers)) return false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (typeof name === 'string' && name.toLowerCase() === 'traceparent') return true;
  }
  return false;
}

/** Operational endpoints (scrapes, health checks, the API's docs): not worth a trace each. */
export function isUntracedPath(url: string | undefined): boolean {
  const path = (url ?? '/').split('?')[0] ?? '/';
  return (
    path === '/health' ||
    path === '/ready' ||
    path === '/metrics' ||
    path === '/openapi.json' ||
    path === '/docs' ||
    path.startsWith('/docs/')
  );
}
