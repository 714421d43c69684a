import type { Logger } from 'pino';
import { createLogger } from '@sagaflow/observability';

/** A pino destination that keeps every JSON line, for tests that read what a service logged. */
export interface LogCapture {
  /** pass as a pino destination (`createLogger({ destination })`) */
  readonly destination: { write(line: string): void };
  /** every record so far, parsed */
  records(): Array<Record<string, unknown>>;
  /** everything written so far, as text */
  text(): string;
}

export function createLogCapture(): LogCapture {
  const lines: string[] = [];
  return {
    destination: { write: (line: string) => void lines.push(line) },
    records: () =>
      lines
        .flatMap((chunk) => chunk.split('\n'))
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => lines.join(''),
  };
}

/** The API's own logger (redacting, as in production) writing into a capture: pass `logger` to buildTestApp. */
export function createCapturedApiLogger(level: 'info' | 'debug' = 'info'): { logs: LogCapture; logger: Logger } {
  const logs = createLogCapture();
  return {
    logs,
    logger: createLogger({ name: 'sagaflow-api', level, sensitive: false, destination: logs.destination }),
  };
}
