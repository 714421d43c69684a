// @sagaflow/observability: the OpenTelemetry SDK setup of services/api and services/engine.
// The SDK, its exporter and instrumentations are imported only when tracing is on (≈ 9 MB of heap, 28 MB of RSS
// per process otherwise: docs/performance.md#memory).
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { carriesTraceParent, isUntracedPath } from './trace-context.js';

export interface TracingOptions {
  serviceName: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: OTLP/HTTP base URL; spans go to `<endpoint>/v1/traces` */
  otlpEndpoint?: string | undefined;
  /** OTEL_BSP_SCHEDULE_DELAY: how long finished spans wait before a batch is exported */
  exportDelayMs?: number;
  /** extra processors (tests: an in-memory exporter) */
  spanProcessors?: SpanProcessor[];
}

export interface Tracing {
  /** false: no processor to send spans to, so the SDK was not started (tracing is off) */
  readonly enabled: boolean;
  /** flushes pending spans and stops the SDK */
  shutdown(): Promise<void>;
}

let started = false;

/** Whether startTracing started the SDK in this process (the API registers its request spans only then). */
export function isTracingStarted(): boolean {
  return started;
}

export function otlpTracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Starts the OpenTelemetry Node SDK — await it before pg, undici or fastify are imported (each service's entry
 * imports the rest of the service only afterwards). Every setting is explicit, so the SDK reads no OTEL_* variable
 * for these choices: W3C trace context, parent-based always-on sampling, no metrics or logs export, spans to OTLP
 * when an endpoint is configured. Without an endpoint (and no extra processor) nothing is started or exported.
 *
 * Instrumented: incoming HTTP (but /health, /ready, /metrics, docs), pg and undici — both only inside a trace, so the
 * engine's polling claims do not start a trace every second. Undici requests that already carry a `traceparent`
 * (the engine's attempts: their attempt span is the client span the downstream sees) get no second header or span.
 * The API adds its Fastify request spans itself (@fastify/otel, registered by buildApp).
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  if (!options.otlpEndpoint && (options.spanProcessors ?? []).length === 0)
    return { enabled: false, shutdown: async () => {} };
  const [{ OTLPTraceExporter }, { HttpInstrumentation }, { PgInstrumentation }, { UndiciInstrumentation }, sdkNode] =
    await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-undici'),
      import('@opentelemetry/sdk-node'),
    ]);
  const { AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler } = await import('@opentelemetry/sdk-trace-base');
  const { core, NodeSDK, resources } = sdkNode;
  const processors = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint) {
    const exporter = new OTLPTraceExporter({ url: otlpTracesUrl(options.otlpEndpoint) });
    processors.push(new BatchSpanProcessor(exporter, { scheduledDelayMillis: options.exportDelayMs ?? 5_000 }));
  }

  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    resourceDetectors: [resources.processDetector, resources.hostDetector],
    textMapPropagator: new core.W3CTraceContextPropagator(),
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: processors,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => isUntracedPath(request.url) }),
      new UndiciInstrumentation({
        requireParentforSpans: true,
        ignoreRequestHook: (request) => carriesTraceParent(request.headers),
      }),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  started = true;
  return {
    enabled: true,
    shutdown: async () => {
      started = false;
      await sdk.shutdown();
    },
  };
}
