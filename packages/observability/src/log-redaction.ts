// @sagaflow/observability: log redaction, used by the loggers of services/api and services/engine.
/**
 * What `LOG_SENSITIVE=false` hides from log lines. Pure: `redactLogRecord` returns a copy and never mutates.
 *
 * A key is redacted when its lower-cased name CONTAINS one of the redaction keys, at any depth of the record
 * (`input`, `context`, `output`, a request or response `body`, an `error`'s downstream response, headers):
 * `accessToken`, `X-Api-Key`, `customer_email`, `cardNumber`, `Set-Cookie` are all hidden. The built-in list
 * always applies; LOG_REDACT_KEYS (and LOG_REDACT_FIELDS, its older name) add substrings to it.
 */

export const BUILT_IN_REDACT_KEYS: readonly string[] = [
  'token',
  'secret',
  'password',
  'passwd',
  'passphrase',
  'apikey',
  'api_key',
  'api-key',
  'authorization',
  'credential',
  'privatekey',
  'private_key',
  'card',
  'cvv',
  'cookie',
  'session',
  'email',
];
export const REDACTED = '[redacted]';

/** Nesting deeper than this is cut (log records are data, not arbitrary graphs). */
const MAX_DEPTH = 32;

/** Says whether a key's value is hidden. */
export type RedactionMatcher = (key: string) => boolean;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The matcher `redactLogRecord` uses: the built-in substrings plus `extra`, case-insensitive. */
export function redactionMatcher(extra: readonly string[] = []): RedactionMatcher {
  const keys = [...new Set([...BUILT_IN_REDACT_KEYS, ...extra].map((k) => k.trim().toLowerCase()).filter(Boolean))];
  const pattern = new RegExp(keys.map(escapeRegExp).join('|'), 'i');
  return (key) => pattern.test(key);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function redactValue(value: unknown, matches: RedactionMatcher, depth: number): unknown {
  if (Array.isArray(value)) {
    return depth >= MAX_DEPTH ? '[too deep]' : value.map((v) => redactValue(v, matches, depth + 1));
  }
  // Errors, Dates, Buffers... keep their own serializers (pino's err serializer needs the Error)
  if (!isPlainObject(value)) return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = matches(key) ? REDACTED : redactValue(inner, matches, depth + 1);
  }
  return copy;
}

/** A copy of a log record with the value of every matching key replaced by `[redacted]`, at any depth. */
export function redactLogRecord<T extends Record<string, unknown>>(record: T, matches: RedactionMatcher): T {
  return redactValue(record, matches, 0) as T;
}

/** LOG_REDACT_KEYS, LOG_REDACT_FIELDS ("iban, Ssn") → the extra substrings, lower-cased; unset → none. */
export function parseRedactKeys(...values: Array<string | undefined>): string[] {
  const keys = values
    .flatMap((value) => (value ?? '').split(','))
    .map((k) => k.trim().toLowerCase())
    .filter(Boolean);
  return [...new Set(keys)];
}

/**
 * A request URL as it may be logged: the value of each query parameter whose name matches is `[redacted]`, and a
 * value that is a JSON object or array (the run search's `input` and `context` filters) is redacted inside like any
 * record. The path is kept as it is. A URL with nothing to hide is returned unchanged.
 */
export function redactUrlQuery(url: string, matches: RedactionMatcher): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const shown = new URLSearchParams();
  let changed = false;
  for (const [key, value] of new URLSearchParams(url.slice(at + 1))) {
    let kept = value;
    if (matches(key)) kept = REDACTED;
    else if (value.startsWith('{') || value.startsWith('[')) {
      try {
        kept = JSON.stringify(redactValue(JSON.parse(value), matches, 0));
      } catch {
        // not JSON: kept as it is
      }
    }
    if (kept !== value) changed = true;
    shown.append(key, kept);
  }
  return changed ? `${url.slice(0, at)}?${shown.toString()}` : url;
}
