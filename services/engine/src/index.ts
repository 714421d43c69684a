export { startEngine, type RunningEngine, type StartEngineOptions } from './start-engine.js';
export { Engine, type EngineOptions } from './engine.js';
export { classifyResponse, parseRetryAfter, type AttemptClass, type AttemptEnd } from './classify-response.js';
export { buildAttemptRequest, envelope, idempotencyKey, type AttemptRequest } from './build-request.js';
export { parseEnv, readServiceUrls } from './env.js';
export { createLogger, type LoggerOptions } from '@sagaflow/observability';
export { BUILT_IN_REDACT_KEYS, parseRedactKeys, redactionMatcher, redactLogRecord } from '@sagaflow/observability';
export { startTracing, type Tracing, type TracingOptions } from '@sagaflow/observability';
export { createEngineMetrics, type EngineMetrics } from './metrics.js';
