import { isSpanContextValid } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatTraceHeaders, isTracingStarted, isUntracedPath, type TraceHeaders } from '@sagaflow/observability';

/**
 * A span per API request (@fastify/otel), a child of the caller's `traceparent` when it sends one. Registered only
 * when tracing was started in this process (with it off the spans would be no-ops, and @fastify/otel with its
 * instrumentation base costs ≈ 17 MB of RSS: docs/performance.md#memory); a caller's `traceparent` is then read
 * by the start route itself. Lifecycle hooks get no spans of their own.
 */
export function registerRequestTracing(app: FastifyInstance): void {
  if (!isTracingStarted()) return;
  const plugin = async (scope: FastifyInstance): Promise<void> => {
    const { FastifyOtelInstrumentation } = await import('@fastify/otel');
    const instrumentation = new FastifyOtelInstrumentation({
      instrumentHooks: false,
      ignorePaths: (route: { url: string }) => isUntracedPath(route.url),
    });
    await scope.register(instrumentation.plugin());
  };
  // not encapsulated (what fastify-plugin does): the request spans cover every route of the app
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  void app.register(plugin);
}

/** This request's span as W3C headers; undefined with tracing off (no tracer registered) or on untraced paths. */
export function requestSpanHeaders(request: FastifyRequest): TraceHeaders | undefined {
  const span = typeof request.opentelemetry === 'function' ? request.opentelemetry().span : undefined;
  const context = span?.spanContext();
  return context && isSpanContextValid(context) ? formatTraceHeaders(context) : undefined;
}
