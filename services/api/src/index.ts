export { buildApp, type AppConfig, type AppDeps } from './app.js';
export { loadConfig, ConfigError, type ApiConfig } from './env.js';
export { startServer, type RunningApi } from './start-server.js';
export { appRouter, type AppRouter } from './router.js';
export { buildOpenApiDocument, serializeOpenApiDocument } from './openapi.js';
export { createMetricsRegistry } from './metrics.js';
export {
  createMemoryRateLimiter,
  createRedisRateLimiter,
  type RateLimiter,
  type RateLimitDecision,
} from './rate-limit.js';
export { createApiMetrics, type ApiMetrics } from './metrics.js';
export { createLogger, type LoggerOptions } from '@sagaflow/observability';
export { startTracing, type Tracing, type TracingOptions } from '@sagaflow/observability';
