// Kept identical in services/api/src and services/engine/src (services/api/test/observability-shared.test.ts compares them).
import pino, { type DestinationStream, type Logger } from 'pino';
import { DEFAULT_REDACT_FIELDS, redactionKeys, redactLogRecord } from './log-redaction.js';

export interface LoggerOptions {
  level: string;
  /** LOG_SENSITIVE: true logs secrets and sensitive fields as they are */
  sensitive: boolean;
  /** LOG_REDACT_FIELDS: field names hidden at any depth unless `sensitive` (default email, card, password, token) */
  redactFields?: readonly string[];
  /** the service: sagaflow-api, sagaflow-engine */
  name: string;
  /** where JSON lines go; stdout by default (tests pass a collecting stream) */
  destination?: DestinationStream;
}

/** A service's pino logger: JSON lines; unless LOG_SENSITIVE=true every record passes through the redaction. */
export function createLogger(options: LoggerOptions): Logger {
  const keys = redactionKeys(options.redactFields ?? DEFAULT_REDACT_FIELDS);
  const settings = {
    name: options.name,
    level: options.level,
    ...(options.sensitive
      ? {}
      : { formatters: { log: (record: Record<string, unknown>) => redactLogRecord(record, keys) } }),
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
