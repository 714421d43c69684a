// Deliberately without database-gauges (@sagaflow/observability/database-gauges): importing this index must not
// load pg before tracing has started, or pg would escape instrumentation.
export * from './log-redaction.js';
export * from './log-size-cap.js';
export * from './logger.js';
export * from './tracing.js';
export * from './trace-context.js';
