import { replaceTemplates } from './template-scan.js';

/** Charset of workflow names, step ids, compensation ids and service names. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** RFC 9110 token: what a header field name may contain. */
export const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Headers the engine owns (docs/contract.md#downstream-requests) or that describe the connection: a definition may not set them, so
 * the idempotency key, correlation and trace headers always mean what the contract says.
 */
export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  'x-idempotency-key',
  'x-correlation-id',
  'x-sagaflow-run-id',
  'x-sagaflow-step-id',
  'x-sagaflow-attempt',
  'traceparent',
  'tracestate',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  // undici refuses these on a request (expect: "not supported"; keep-alive, upgrade: "invalid … header"): every
  // attempt of the step would fail
  'keep-alive',
  'upgrade',
  'expect',
]);

/** A reason the header name is not allowed, or undefined. */
export function describeHeaderNameProblem(name: string): string | undefined {
  if (!HEADER_NAME_PATTERN.test(name)) return `invalid header name "${name}"`;
  if (RESERVED_HEADER_NAMES.has(name.toLowerCase()))
    return `header "${name}" is set by the engine or its HTTP client and cannot be overridden`;
  return undefined;
}

/** What an HTTP header value may hold (RFC 9110 field-vchar, SP, HTAB, obs-text): the rule undici enforces. */
const HEADER_VALUE_PATTERN = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * A reason the header value is not allowed, or undefined: CR, LF, NUL or another control character would split or
 * break the request, and a character outside Latin-1 cannot be sent at all.
 */
export function describeHeaderValueProblem(value: string): string | undefined {
  if (/[\r\n\0]/.test(value)) return 'header values must not contain CR, LF or NUL';
  if (!HEADER_VALUE_PATTERN.test(value))
    return 'header values may hold only tab, visible ASCII and Latin-1 characters (no control characters)';
  return undefined;
}

/** A reason the service-relative path is not allowed, or undefined. Templates are allowed. */
export function describePathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return `path "${path}" must start with "/"`;
  if (path.startsWith('//')) return `path "${path}" must not start with "//"`;
  if (/[\s\0]/.test(path)) return `path "${path}" must not contain whitespace`;
  return undefined;
}

/**
 * A reason the absolute URL is not allowed, or undefined. Templates may appear after the host (path, query)
 * but not in the scheme, host or port, so the target host is always the one an admin registered.
 */
export function describeUrlProblem(url: string): string | undefined {
  const authority = /^https?:\/\/([^/?#]*)/i.exec(url)?.[1];
  if (authority === undefined) return `url "${url}" must be an absolute http or https URL`;
  if (authority.includes('{{')) return `url "${url}" must not use templates in its host`;
  let parsed: URL;
  try {
    parsed = new URL(replaceTemplates(url, () => 'x'));
  } catch {
    return `url "${url}" must be an absolute http or https URL`;
  }
  if (parsed.hostname === '') return `url "${url}" must name a host`;
  if (parsed.username !== '' || parsed.password !== '') return `url "${url}" must not contain credentials`;
  if (/[\s\0]/.test(url)) return `url "${url}" must not contain whitespace`;
  return undefined;
}
