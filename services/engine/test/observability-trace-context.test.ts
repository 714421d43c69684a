import { describe, expect, it } from 'vitest';
import type { ClaimedItem } from '@sagaflow/db';
import { startAttemptSpan } from '../src/attempt-span.js';
import {
  carriesTraceParent,
  childTraceParent,
  formatTraceHeaders,
  isUntracedPath,
  parseTraceParent,
} from '@sagaflow/observability';
import { otlpTracesUrl } from '@sagaflow/observability';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('parseTraceParent / formatTraceHeaders', () => {
  it('round-trips a W3C traceparent and tracestate', () => {
    const context = parseTraceParent(`00-${TRACE}-${SPAN}-01`, 'vendor=abc,other=1');
    expect(context).toMatchObject({ traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: true });
    expect(formatTraceHeaders(context!)).toEqual({
      traceparent: `00-${TRACE}-${SPAN}-01`,
      tracestate: 'vendor=abc,other=1',
    });
    expect(formatTraceHeaders(parseTraceParent(`00-${TRACE}-${SPAN}-00`)!)).toEqual({
      traceparent: `00-${TRACE}-${SPAN}-00`,
    });
  });

  it('rejects what W3C calls invalid', () => {
    for (const bad of [
      null,
      undefined,
      '',
      'garbage',
      `01-${TRACE}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
    ]) {
      expect(parseTraceParent(bad)).toBeUndefined();
    }
  });
});

describe('childTraceParent (tracing off)', () => {
  it('keeps the run\u2019s trace id and flags with a fresh span id; a fresh trace without one', () => {
    const child = childTraceParent(`00-${TRACE}-${SPAN}-00`);
    expect(child).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
    expect(child).not.toContain(SPAN);
    expect(childTraceParent(null)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(childTraceParent(null, TRACE)).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    expect(childTraceParent(`00-${TRACE}-${SPAN}-01`, 'f'.repeat(32))).toContain(TRACE);
    expect(childTraceParent(null, 'not-hex')).not.toContain('not-hex');
  });
});

describe('carriesTraceParent (the undici instrumentation skips requests that have one)', () => {
  it('reads undici header lists and header strings, case-insensitively', () => {
    expect(carriesTraceParent(['content-type', 'application/json', 'traceparent', `00-${TRACE}-${SPAN}-01`])).toBe(
      true,
    );
    expect(carriesTraceParent(['TraceParent', 'x'])).toBe(true);
    expect(carriesTraceParent(['x-traceparent-note', 'traceparent'])).toBe(false);
    expect(carriesTraceParent('host: a\r\ntraceparent: 00-x\r\n')).toBe(true);
    expect(carriesTraceParent('host: a\r\nx-traceparent: 1\r\n')).toBe(false);
    expect(carriesTraceParent(undefined)).toBe(false);
  });
});

describe('startAttemptSpan without a registered tracer', () => {
  const item = (traceParent: string | null) =>
    ({
      id: '1',
      runId: 'r-1',
      stepIndex: 0,
      kind: 'action',
      leaseToken: 't',
      started: false,
      deliveries: 1,
      stepId: 'charge',
      attemptsMade: 0,
      attemptsBeforeRetry: 0,
      run: {
        workflowName: 'w',
        workflowVersion: '1.0.0',
        input: {},
        context: {},
        correlationId: 'c',
        traceParent,
        traceState: null,
      },
      outputs: {},
      state: {
        runId: 'r-1',
        status: 'RUNNING',
        error: null,
        workflowName: 'w',
        correlationId: 'c',
        createdAt: new Date(0),
        cancelRequested: false,
        paused: false,
        workflowPaused: false,
        eventSeq: 2,
        steps: [
          {
            index: 0,
            stepId: 'charge',
            status: 'RUNNING',
            compensationStatus: 'NONE',
            error: null,
            attempts: 0,
            attemptsBeforeRetry: 0,
            compensationAttempts: 0,
            compensationAttemptsBeforeRetry: 0,
            wait: null,
          },
        ],
      },
      stateStale: false,
      payloadBytes: 2048,
    }) satisfies ClaimedItem;

  it('has no headers of its own to send (the request builder falls back), but knows the run\u2019s trace id', () => {
    const traced = startAttemptSpan(item(`00-${TRACE}-${SPAN}-01`));
    expect(traced.headers).toBeUndefined();
    expect(traced.traceId).toBe(TRACE);
    traced.span.end();
    expect(startAttemptSpan(item(null)).traceId).toBeUndefined();
  });
});

describe('otlpTracesUrl', () => {
  it('appends the OTLP traces path to OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    expect(otlpTracesUrl('http://jaeger:4318')).toBe('http://jaeger:4318/v1/traces');
    expect(otlpTracesUrl('http://collector:4318/prefix/')).toBe('http://collector:4318/prefix/v1/traces');
  });
});

describe('isUntracedPath', () => {
  it('skips scrapes, health checks and the docs, not the API', () => {
    for (const path of ['/health', '/ready', '/metrics?x=1', '/openapi.json', '/docs', '/docs/js/scalar.js'])
      expect(isUntracedPath(path)).toBe(true);
    for (const path of ['/v1/workflows/a/start', '/v1/runs/1', '/documents', undefined])
      expect(isUntracedPath(path)).toBe(false);
  });
});
