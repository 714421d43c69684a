// Kept identical in services/api/src and services/engine/src (services/api/test/observability-shared.test.ts compares them).
/**
 * What `LOG_SENSITIVE=false` hides from log lines. Pure: `redactLogRecord` returns a copy and never mutates.
 *
 * Secrets (the admin token, authorization headers, cookies) are always on the list. The configurable fields
 * (`LOG_REDACT_FIELDS`, default email, card, password, token) are matched against object keys at any depth —
 * inside `input`, `context`, `output`, a request or response `body`, an `error`'s downstream response —
 * case-insensitively and by the whole key (`Email` matches `email`; `emailVerified` does not).
 */

export const DEFAULT_REDACT_FIELDS: readonly string[] = ['email', 'card', 'password', 'token'];
export const SECRET_FIELDS: readonly string[] = [
  'x-admin-token',
  'admintoken',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
];
export const REDACTED = '[redacted]';

/** Nesting deeper than this is cut (log records are data, not arbitrary graphs). */
const MAX_DEPTH = 32;

/** The key set `redactLogRecord` matches: the secrets plus the configured fields, lower-cased. */
export function redactionKeys(fields: readonly string[] = DEFAULT_REDACT_FIELDS): ReadonlySet<string> {
  return new Set([...SECRET_FIELDS, ...fields].map((f) => f.trim().toLowerCase()).filter(Boolean));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function redactValue(value: unknown, keys: ReadonlySet<string>, depth: number): unknown {
  if (Array.isArray(value)) {
    return depth >= MAX_DEPTH ? '[too deep]' : value.map((v) => redactValue(v, keys, depth + 1));
  }
  // Errors, Dates, Buffers... keep their own serializers (pino's err serializer needs the Error)
  if (!isPlainObject(value)) return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = keys.has(key.toLowerCase()) ? REDACTED : redactValue(inner, keys, depth + 1);
  }
  return copy;
}

/** A copy of a log record with every matching key's value replaced by `[redacted]`, at any depth. */
export function redactLogRecord<T extends Record<string, unknown>>(record: T, keys: ReadonlySet<string>): T {
  return redactValue(record, keys, 0) as T;
}

/** `LOG_REDACT_FIELDS` ("email,card , Password") → field names; empty or unset → the defaults. */
export function parseRedactFields(value: string | undefined): string[] {
  const fields = (value ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  return fields.length > 0 ? fields : [...DEFAULT_REDACT_FIELDS];
}
