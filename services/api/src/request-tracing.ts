import { FastifyOtelInstrumentation } from '@fastify/otel';
import { isSpanContextValid } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatTraceHeaders, isUntracedPath, type TraceHeaders } from '@sagaflow/observability';

/**
 * A span per API request (@fastify/otel), a child of the caller's `traceparent` when it sends one. Registered on
 * every app; with tracing off (no tracer registered) the spans are no-ops. Lifecycle hooks get no spans of their own.
 */
export function registerRequestTracing(app: FastifyInstance): void {
  const instrumentation = new FastifyOtelInstrumentation({
    instrumentHooks: false,
    ignorePaths: (route: { url: string }) => isUntracedPath(route.url),
  });
  void app.register(instrumentation.plugin());
}

/** This request's span as W3C headers; undefined with tracing off (no tracer registered) or on untraced paths. */
export function requestSpanHeaders(request: FastifyRequest): TraceHeaders | undefined {
  const span = typeof request.opentelemetry === 'function' ? request.opentelemetry().span : undefined;
  const context = span?.spanContext();
  return context && isSpanContextValid(context) ? formatTraceHeaders(context) : undefined;
}
