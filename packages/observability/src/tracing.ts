// @sagaflow/observability: the OpenTelemetry SDK setup of services/api and services/engine.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { core, NodeSDK, resources } from '@opentelemetry/sdk-node';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
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

export function otlpTracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Starts the OpenTelemetry Node SDK — call it before pg, undici or fastify are imported (each service's entry
 * imports the rest of the service only afterwards). Every setting is explicit, so the SDK reads no OTEL_* variable
 * for these choices: W3C trace context, parent-based always-on sampling, no metrics or logs export, spans to OTLP
 * when an endpoint is configured. Without an endpoint (and no extra processor) nothing is started or exported.
 *
 * Instrumented: incoming HTTP (but /health, /ready, /metrics, docs), pg and undici — both only inside a trace, so the
 * engine's polling claims do not start a trace every second. Undici requests that already carry a `traceparent`
 * (the engine's attempts: their attempt span is the client span the downstream sees) get no second header or span.
 * The API adds its Fastify request spans itself (@fastify/otel, registered by buildApp).
 */
export function startTracing(options: TracingOptions): Tracing {
  const processors = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint) {
    const exporter = new OTLPTraceExporter({ url: otlpTracesUrl(options.otlpEndpoint) });
    processors.push(new BatchSpanProcessor(exporter, { scheduledDelayMillis: options.exportDelayMs ?? 5_000 }));
  }
  if (processors.length === 0) return { enabled: false, shutdown: async () => {} };

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
  return { enabled: true, shutdown: () => sdk.shutdown() };
}
