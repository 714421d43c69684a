import pino, { type Logger } from 'pino';

export interface MemoryLogger {
  logger: Logger;
  /** every record logged so far, parsed */
  records(): Array<Record<string, unknown>>;
}

/** A pino logger that writes JSON lines into an array, for in-process engines whose logs a test inspects. */
export function createMemoryLogger(level = 'info'): MemoryLogger {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(line) });
  return { logger, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
