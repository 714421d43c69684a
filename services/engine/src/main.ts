import v8 from 'node:v8';
import { readEngineEnv, type ParsedEngineEnv } from './env.js';
import { createLogger } from '@sagaflow/observability';
import { startTracing } from '@sagaflow/observability';

/**
 * The engine process: configuration, logger and tracing first; the engine itself (pg, undici, fastify) is imported
 * only after the OpenTelemetry SDK has started, so those modules load instrumented.
 */

let env: ParsedEngineEnv;
try {
  env = readEngineEnv();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

// a V8 flag read at each major collection: set before the engine allocates anything
if (env.ENGINE_HEAP_GROWING_PERCENT > 0)
  v8.setFlagsFromString(`--heap-growing-percent=${env.ENGINE_HEAP_GROWING_PERCENT}`);

const logger = createLogger({
  name: 'sagaflow-engine',
  level: env.LOG_LEVEL,
  sensitive: env.LOG_SENSITIVE === 'true',
  redactKeys: env.redactKeys,
  bufferBytes: env.LOG_BUFFER_BYTES,
});
const tracing = await startTracing({
  serviceName: 'sagaflow-engine',
  otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
  exportDelayMs: env.OTEL_BSP_SCHEDULE_DELAY,
});
const { startEngine } = await import('./start-engine.js');

let running: Awaited<ReturnType<typeof startEngine>>;
try {
  running = await startEngine({
    databaseUrl: env.DATABASE_URL,
    serviceUrls: env.serviceUrls,
    allowedHosts: env.allowedHosts,
    port: env.ENGINE_PORT,
    host: env.ENGINE_HOST,
    concurrency: env.ENGINE_CONCURRENCY,
    batchSize: env.ENGINE_BATCH_SIZE,
    maxInflightBytes: env.ENGINE_MAX_INFLIGHT_BYTES,
    leaseMs: env.ENGINE_LEASE_MS,
    pollIntervalMs: env.ENGINE_POLL_INTERVAL_MS,
    maxDeliveries: env.ENGINE_MAX_DELIVERIES,
    shutdownGraceMs: env.ENGINE_SHUTDOWN_GRACE_MS,
    poolSize: env.ENGINE_DB_POOL_SIZE,
    operationSlots: env.ENGINE_OPERATION_SLOTS,
    scheduleCatchUpMs: env.ENGINE_SCHEDULE_CATCH_UP_MS,
    schedulePollMs: env.ENGINE_SCHEDULE_POLL_MS,
    handoff: env.ENGINE_HANDOFF === 'true',
    ...(env.ENGINE_ID ? { id: env.ENGINE_ID } : {}),
    logger,
  });
} catch (error) {
  // one line, as the API's (a port in use, Postgres refusing at start), not an unhandled rejection's stack
  logger.flush();
  process.stderr.write(`sagaflow-engine: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
if (tracing.enabled)
  logger.info({ otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'tracing on: spans exported over OTLP');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    running
      .stop()
      .then(() => tracing.shutdown().catch(() => {}))
      .then(
        () => process.exit(0),
        (error) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  });
}
