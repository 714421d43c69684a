// @sagaflow/observability: the pino logger of services/api and services/engine.
import pino, { type DestinationStream, type Logger } from 'pino';
import { redactionMatcher, redactLogRecord } from './log-redaction.js';
import { capLogRecord } from './log-size-cap.js';

export interface LoggerOptions {
  level: string;
  /** LOG_SENSITIVE: true logs secrets and sensitive fields as they are (sizes stay capped) */
  sensitive: boolean;
  /** LOG_REDACT_KEYS: key substrings hidden at any depth on top of the built-in list, unless `sensitive` */
  redactKeys?: readonly string[];
  /** the service: sagaflow-api, sagaflow-engine */
  name: string;
  /** where JSON lines go; stdout by default (tests pass a collecting stream) */
  destination?: DestinationStream;
}

/**
 * A service's pino logger: JSON lines; every field of a record is capped at about 2 KiB (log-size-cap.ts) and,
 * unless LOG_SENSITIVE=true, passes through the redaction (log-redaction.ts).
 */
export function createLogger(options: LoggerOptions): Logger {
  const matches = redactionMatcher(options.redactKeys ?? []);
  const log = options.sensitive
    ? (record: Record<string, unknown>) => capLogRecord(record)
    : (record: Record<string, unknown>) => redactLogRecord(capLogRecord(record), matches);
  const settings = { name: options.name, level: options.level, formatters: { log } };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
