import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import {
  spawnService,
  startFakeDownstream,
  waitFor,
  type FakeDownstream,
  type ServiceProcess,
} from '@sagaflow/testkit';
import { ADMIN_TOKEN } from './helpers.js';
import { startOtlpCollector, type ExportedSpan, type OtlpCollector } from './observability/otlp-collector.js';

/**
 * The production wiring: API (src/server.ts) and engine (src/main.ts) as child processes exporting spans over
 * OTLP/HTTP to a collector on loopback. Proves the SDK starts before pg and fastify load (pg spans appear in both,
 * under the right parents) and that a run's spans across both processes form one trace.
 */

const API_ENTRY = fileURLToPath(new URL('../src/server.ts', import.meta.url));
const ENGINE_ENTRY = fileURLToPath(new URL('../../engine/src/main.ts', import.meta.url));
const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let collector: OtlpCollector;
let downstream: FakeDownstream;
let api: ServiceProcess;
let engine: ServiceProcess;
let apiUrl: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  collector = await startOtlpCollector();
  downstream = await startFakeDownstream();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100', LOG_LEVEL: 'info' };
  engine = spawnService({
    name: 'engine',
    entry: ENGINE_ENTRY,
    env: {
      ...otel,
      DATABASE_URL: testDb.url,
      ENGINE_PORT: '0',
      ENGINE_HOST: '127.0.0.1',
      ENGINE_POLL_INTERVAL_MS: '50',
    },
  });
  api = spawnService({
    name: 'api',
    entry: API_ENTRY,
    env: { ...otel, DATABASE_URL: testDb.url, PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN, NODE_ENV: 'test' },
  });
  await engine.waitForLine(/"msg":"engine started"/, 20_000);
  const listening = await api.waitForLine(/Server listening at http:\/\/127\.0\.0\.1:\d+/, 20_000);
  apiUrl = /(http:\/\/127\.0\.0\.1:\d+)/.exec(listening)![1]!;
});

afterAll(async () => {
  await Promise.all([api?.kill('SIGTERM'), engine?.kill('SIGTERM')]);
  await downstream?.close();
  await collector?.close();
  await testDb?.drop();
});

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const response = await fetch(`${apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as Record<string, unknown>;
}

describe('spans exported over OTLP by both processes', () => {
  let runId: string;
  let spans: ExportedSpan[];

  beforeAll(async () => {
    await post(
      '/v1/admin/workflows',
      {
        name: 'x-saga',
        version: '1.0.0',
        steps: ['x-a', 'x-b'].map((id) => ({ id, request: { method: 'POST', url: `${downstream.url}/${id}` } })),
      },
      { 'x-admin-token': ADMIN_TOKEN },
    );
    runId = String(
      (
        await post(
          '/v1/workflows/x-saga/start',
          { input: { orderId: 'o-1' } },
          { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
        )
      ).runId,
    );
    spans = await waitFor(
      () => {
        const all = collector.spans();
        const attempts = all.filter((s) => s.scope === '@sagaflow/engine' && s.attributes['runId'] === runId);
        const enginePg = all.filter(
          (s) => s.service === 'sagaflow-engine' && s.scope === '@opentelemetry/instrumentation-pg',
        );
        const apiDone = all.some(
          (s) => s.traceId === CALLER_TRACE && s.scope === '@opentelemetry/instrumentation-http',
        );
        return attempts.length === 2 && enginePg.length > 0 && apiDone ? all : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'the run\u2019s spans to be exported' },
    );
  });

  it('the API: an HTTP server span under the caller, a request span under it, pg spans inside', () => {
    const apiSpans = spans.filter((s) => s.service === 'sagaflow-api' && s.traceId === CALLER_TRACE);
    const server = apiSpans.find((s) => s.scope === '@opentelemetry/instrumentation-http');
    const request = apiSpans.find((s) => s.scope === '@fastify/otel' && s.name === 'request');
    expect(server?.parentSpanId).toBe(CALLER_SPAN);
    expect(request?.parentSpanId).toBe(server?.spanId);
    const ids = new Set(apiSpans.map((s) => s.spanId));
    const pg = apiSpans.filter((s) => s.scope === '@opentelemetry/instrumentation-pg');
    expect(pg.length).toBeGreaterThan(0);
    for (const span of pg) expect(ids.has(span.parentSpanId ?? '')).toBe(true);
  });

  it('the engine: attempt spans under the stored request span, their commits (pg) under them', async () => {
    const request = spans.find(
      (s) => s.traceId === CALLER_TRACE && s.scope === '@fastify/otel' && s.name === 'request',
    );
    const row = await testDb.db
      .selectFrom('workflow_runs')
      .select('trace_parent')
      .where('id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(row.trace_parent).toBe(`00-${CALLER_TRACE}-${request?.spanId}-01`);

    const attempts = spans.filter((s) => s.scope === '@sagaflow/engine');
    expect(
      attempts.map((s) => [s.name, s.traceId, s.parentSpanId, s.attributes['http.status'], s.attributes['attemptNo']]),
    ).toEqual([
      ['action x-a', CALLER_TRACE, request?.spanId, 200, 1],
      ['action x-b', CALLER_TRACE, request?.spanId, 200, 1],
    ]);
    // only the attempts' queries are traced (the polling claims start no trace of their own): every engine pg span
    // descends from an attempt span (a new pool connection nests pg.connect under pg-pool.connect); a late batch may
    // still be on its way
    const attemptIds = new Set(attempts.map((s) => s.spanId));
    await waitFor(
      () => {
        const all = collector.spans();
        const byId = new Map(all.map((s) => [s.spanId, s]));
        const underAttempt = (span: ExportedSpan): boolean => {
          for (let at: ExportedSpan | undefined = span; at; at = byId.get(at.parentSpanId ?? '')) {
            if (attemptIds.has(at.parentSpanId ?? '')) return true;
          }
          return false;
        };
        const enginePg = all.filter(
          (s) => s.service === 'sagaflow-engine' && s.scope === '@opentelemetry/instrumentation-pg',
        );
        return enginePg.length > 0 && enginePg.every(underAttempt);
      },
      { timeoutMs: 5_000, intervalMs: 50, description: 'every engine pg span to descend from an attempt span' },
    );
  });

  it('the downstream saw exactly one traceparent per attempt: the attempt span', () => {
    const attempts = spans.filter((s) => s.scope === '@sagaflow/engine');
    expect(downstream.requests().map((r) => r.headers['traceparent'])).toEqual(
      attempts.map((s) => `00-${CALLER_TRACE}-${s.spanId}-01`),
    );
    expect(spans.filter((s) => s.scope === '@opentelemetry/instrumentation-undici')).toEqual([]);
  });

  it('both processes stop cleanly on SIGTERM (flushing their spans)', async () => {
    const [apiExit, engineExit] = await Promise.all([api.kill('SIGTERM'), engine.kill('SIGTERM')]);
    expect(apiExit.code).toBe(0);
    expect(engineExit.code).toBe(0);
  });
});
