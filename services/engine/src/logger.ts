import pino, { type Logger } from 'pino';

/** Paths redacted unless LOG_SENSITIVE=true. */
export const SENSITIVE_PATHS = ['*.email', '*.card', '*.password', '*.token', 'headers["x-admin-token"]', 'headers.authorization'];

export function createLogger(options: { level: string; sensitive: boolean; name?: string }): Logger {
  return pino({
    name: options.name ?? 'sagaflow-engine',
    level: options.level,
    ...(options.sensitive ? {} : { redact: { paths: SENSITIVE_PATHS, censor: '[redacted]' } }),
  });
}
