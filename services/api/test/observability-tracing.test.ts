import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { waitFor } from '@sagaflow/testkit';
import { startTracing, type Tracing } from '@sagaflow/observability';
import { startObservedWorld, type ObservedWorld } from './observability/world.js';

/**
 * docs/contract.md#tracing, in this process (API + engine + downstream) with an in-memory exporter: the start request's
 * span is stored with the run, every attempt span of the run is its child, and each downstream request carries
 * exactly one traceparent: its attempt span's.
 */

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

let exporter: InMemorySpanExporter;
let tracing: Tracing;
let world: ObservedWorld;

beforeAll(async () => {
  exporter = new InMemorySpanExporter();
  tracing = await startTracing({ serviceName: 'sagaflow-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  world = await startObservedWorld({
    // t-b: a retryable 503, then a permanent 422 → t-a is compensated
    script: ({ path }, nth) => (path === '/t-saga/t-b' ? { status: nth === 1 ? 503 : 422 } : { status: 200 }),
  });
  await world.defineSaga('t-saga', [{ id: 't-a', compensation: true }, { id: 't-b' }]);
});

afterAll(async () => {
  await world?.close();
  await tracing?.shutdown();
});

const byScope = (scope: string) => exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === scope);
const spanId = (s: ReadableSpan) => s.spanContext().spanId;
const traceId = (s: ReadableSpan) => s.spanContext().traceId;

function attemptSpansOf(runId: string, count: number): Promise<ReadableSpan[]> {
  return waitFor(
    () => {
      const spans = byScope('@sagaflow/engine').filter((s) => s.attributes['runId'] === runId);
      return spans.length >= count ? spans : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 20, description: `${count} attempt spans of run ${runId}` },
  );
}

function startRequestSpan(): ReadableSpan {
  const spans = byScope('@fastify/otel').filter(
    (s) => s.name === 'request' && String(s.attributes['url.path']).endsWith('/start'),
  );
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

describe('a run started with a caller traceparent', () => {
  let runId: string;
  let request: ReadableSpan;
  let attempts: ReadableSpan[];

  beforeAll(async () => {
    exporter.reset();
    runId = await world.start('t-saga', { orderId: 'o-1' }, { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` });
    expect((await world.waitTerminal(runId)).run.status).toBe('COMPENSATED');
    attempts = await attemptSpansOf(runId, 4);
    request = startRequestSpan();
  });

  it('the API request span continues the caller trace', () => {
    expect(traceId(request)).toBe(CALLER_TRACE);
    expect(request.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(request.attributes['http.request.method']).toBe('POST');
    expect(request.attributes['http.response.status_code']).toBe(202);
  });

  it('the run stores the request span context', async () => {
    const row = await world.db
      .selectFrom('workflow_runs')
      .select(['trace_parent'])
      .where('id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(row.trace_parent).toBe(`00-${CALLER_TRACE}-${spanId(request)}-01`);
  });

  it('every attempt span (actions, the retry, the compensation) is a child of the request span, with its attributes', () => {
    expect(attempts.map((s) => [s.name, s.attributes['attemptNo'], s.attributes['http.status']])).toEqual([
      ['action t-a', 1, 200],
      ['action t-b', 1, 503],
      ['action t-b', 2, 422],
      ['compensation t-a', 1, 200],
    ]);
    for (const span of attempts) {
      expect(traceId(span)).toBe(CALLER_TRACE);
      expect(span.parentSpanContext?.spanId).toBe(spanId(request));
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.attributes).toMatchObject({ runId, workflowName: 't-saga', stepId: span.name.split(' ')[1] });
    }
    expect(attempts.map((s) => s.status.code)).toEqual([
      SpanStatusCode.UNSET,
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    expect(attempts.map((s) => s.attributes['outcome'])).toEqual(['SUCCEEDED', 'RETRYABLE', 'FAILED', 'SUCCEEDED']);
  });

  it('each downstream request carried exactly one traceparent: its attempt span', () => {
    const received = world.downstream.requests().filter((r) => r.headers['x-sagaflow-run-id'] === runId);
    expect(received).toHaveLength(4);
    const sent = received.map((r) => {
      const names = r.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
      expect(names.filter((name) => name === 'traceparent')).toHaveLength(1);
      return r.headers['traceparent'];
    });
    expect(sent).toEqual(attempts.map((s) => `00-${CALLER_TRACE}-${spanId(s)}-01`));
  });

  it('the undici instrumentation added no span or header of its own to the attempts', () => {
    expect(byScope('@opentelemetry/instrumentation-undici')).toEqual([]);
  });
});

describe('a run started without a traceparent', () => {
  it('starts a trace at the API request; the attempts join it', async () => {
    exporter.reset();
    const runId = await world.start('t-saga', { orderId: 'o-2' });
    await world.waitTerminal(runId);
    const attempts = await attemptSpansOf(runId, 4);
    const request = startRequestSpan();
    expect(request.parentSpanContext).toBeUndefined();
    for (const span of attempts) {
      expect(traceId(span)).toBe(traceId(request));
      expect(span.parentSpanContext?.spanId).toBe(spanId(request));
    }
  });
});

describe('what is not traced', () => {
  it('scrapes and health checks get no request span', async () => {
    exporter.reset();
    await world.scrapeApi();
    await world.app.inject({ method: 'GET', url: '/health' });
    await world.app.inject({ method: 'GET', url: '/v1/runs/00000000-0000-4000-8000-000000000000' });
    const paths = byScope('@fastify/otel')
      .filter((s) => s.name === 'request')
      .map((s) => s.attributes['url.path']);
    expect(paths).toEqual(['/v1/runs/00000000-0000-4000-8000-000000000000']);
  });
});
