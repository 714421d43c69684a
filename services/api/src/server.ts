import v8 from 'node:v8';
import { ConfigError, loadConfig, type ApiConfig } from './env.js';
import { startTracing } from '@sagaflow/observability';

/**
 * Entry point: parse config, start tracing, then import and start the API (pg, fastify and http load after the
 * OpenTelemetry SDK, so they are instrumented); stop gracefully on SIGTERM/SIGINT, flushing spans last.
 */

async function main(): Promise<void> {
  let config: ApiConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sagaflow-api: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // a V8 flag read at each major collection: set before the API imports its modules and builds its router
  if (config.heapGrowingPercent > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
  const tracing = await startTracing({
    serviceName: 'sagaflow-api',
    otlpEndpoint: config.otlpEndpoint,
    exportDelayMs: config.otlpExportDelayMs,
  });
  const { startServer } = await import('./start-server.js');
  const api = await startServer(config);
  if (tracing.enabled) api.app.log.info({ otlpEndpoint: config.otlpEndpoint }, 'tracing on: spans exported over OTLP');
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    api.app.log.info({ signal }, 'shutting down');
    api
      .stop()
      .then(() => tracing.shutdown().catch(() => {}))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          api.app.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`sagaflow-api: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
