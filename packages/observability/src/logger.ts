// @sagaflow/observability: the pino logger of services/api and services/engine.
import pino, { type DestinationStream, type Logger } from 'pino';
import { LineBatch } from './line-batch.js';
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
  /**
   * LOG_BUFFER_BYTES: stdout lines are gathered until this many bytes wait, or LOG_FLUSH_INTERVAL_MS has passed, and
   * written in one write; 0 is pino's own stdout stream, which starts a write for a line as soon as the previous write
   * has finished. Ignored with `destination`.
   */
  bufferBytes?: number;
}

/** The longest a buffered log line waits before it is written (LOG_BUFFER_BYTES > 0). */
export const LOG_FLUSH_INTERVAL_MS = 100;

/** LOG_BUFFER_BYTES by default: about ten lines of a step. */
export const DEFAULT_LOG_BUFFER_BYTES = 4096;

/** The largest LOG_BUFFER_BYTES: a batch stays within what sonic-boom writes at once (16 KiB). */
export const MAX_LOG_BUFFER_BYTES = 16_383;

/**
 * A service's pino logger: JSON lines; every field of a record is capped at about 2 KiB (log-size-cap.ts) and,
 * unless LOG_SENSITIVE=true, passes through the redaction (log-redaction.ts).
 *
 * With `bufferBytes` > 0, stdout is written asynchronously in batches: one write per ~10 lines instead of about one
 * per line, a thread-pool round trip each, which was 3–6 % of each service's CPU under burst
 * (docs/performance.md#buffered-logs). The lines are gathered by a LineBatch and handed to pino's sonic-boom (no
 * `minLength` of its own) one batch at a time: sonic-boom's own buffering copies its whole pending buffer at every
 * line (line-batch.ts). Whatever is buffered is written when the process exits (also after an uncaught exception); a
 * SIGKILL or an OOM kill loses at most the last LOG_FLUSH_INTERVAL_MS of lines (docs/limits.md).
 */
export function createLogger(options: LoggerOptions): Logger {
  const matches = redactionMatcher(options.redactKeys ?? []);
  const log = options.sensitive
    ? (record: Record<string, unknown>) => capLogRecord(record)
    : (record: Record<string, unknown>) => redactLogRecord(capLogRecord(record), matches);
  const settings = { name: options.name, level: options.level, formatters: { log } };
  if (options.destination) return pino(settings, options.destination);
  const bufferBytes = options.bufferBytes ?? 0;
  if (bufferBytes <= 0) return pino(settings);
  // pino.destination: sonic-boom, which pino also flushes synchronously on exit
  const stdout = pino.destination({ dest: 1, sync: false });
  const batch = new LineBatch(stdout, Math.min(bufferBytes, MAX_LOG_BUFFER_BYTES), LOG_FLUSH_INTERVAL_MS);
  // before or after pino's own exit flush: either way what waits reaches fd 1 synchronously
  process.once('exit', () => {
    try {
      batch.flushSync();
    } catch {
      // stdout already closed: nowhere left to write
    }
  });
  return pino(settings, batch);
}
