import {
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { ClaimedItem } from '@sagaflow/db';
import type { AttemptOutcome } from './run-attempt.js';
import { formatTraceHeaders, parseTraceParent, type TraceHeaders } from '@sagaflow/observability';

/**
 * The span of one attempt (action or compensation): a child of the trace context stored with the run, so every
 * attempt of a run joins the trace of the request that started it. It covers the request and the commit.
 */
export interface AttemptTrace {
  span: Span;
  /** the context the attempt runs in: the span is active in it (pg spans of the commit become its children) */
  context: Context;
  /** the span as W3C headers for the downstream; undefined when no tracer is registered (tracing off) */
  headers: TraceHeaders | undefined;
  /** the run's trace id, when it has one (for log lines) */
  traceId: string | undefined;
}

export function startAttemptSpan(item: ClaimedItem): AttemptTrace {
  const parent = parseTraceParent(item.run.traceParent, item.run.traceState);
  const parentContext = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
  const attemptNo = item.attemptsMade + 1;
  const span = trace.getTracer('@sagaflow/engine').startSpan(
    `${item.kind} ${item.stepId}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        runId: item.runId,
        stepId: item.stepId,
        attemptNo,
        attemptKind: item.kind,
        workflowName: item.run.workflowName,
        workflowVersion: item.run.workflowVersion,
        correlationId: item.run.correlationId,
        deliveries: item.deliveries,
      },
    },
    parentContext,
  );
  const own = span.spanContext();
  // without a registered tracer the API hands back the parent's context: that is not a span of ours to send
  const traced = isSpanContextValid(own) && own.spanId !== parent?.spanId;
  return {
    span,
    context: trace.setSpan(parentContext, span),
    headers: traced ? formatTraceHeaders(own) : undefined,
    traceId: traced ? own.traceId : parent?.traceId,
  };
}

/** Records what the attempt did on its span: HTTP status, outcome, and an error status when it did not succeed. */
export function recordAttemptOutcome(span: Span, outcome: AttemptOutcome): void {
  const { attempt, result, request } = outcome;
  if (request) span.setAttributes({ 'http.request.method': request.method, 'url.full': request.displayUrl });
  if (attempt?.httpStatus != null)
    span.setAttributes({ 'http.status': attempt.httpStatus, 'http.response.status_code': attempt.httpStatus });
  span.setAttribute('outcome', result.outcome);
  if (result.outcome === 'SUCCEEDED') return;
  if (result.outcome === 'WAITING') {
    span.setAttribute('waitUntil', result.wait.until.toISOString());
    return;
  }
  span.setAttribute('error.code', String(result.error.code));
  if (result.outcome === 'RETRYABLE') span.setAttribute('retryAt', result.retryAt.toISOString());
  span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.message });
}

export function recordAttemptCrash(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
