import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { isDatabaseUnavailable, isDomainError, QueryTimeoutError, type DomainError } from '@sagaflow/db';
import type { ErrorBody } from './schemas/error.js';

/**
 * The one place where errors become HTTP answers: domain errors → tRPC codes, tRPC codes ↔ statuses,
 * and the body `{ code, message, issues? }` — never a stack trace, never internals of a 5xx.
 */

const DOMAIN_TO_TRPC: Record<DomainError['code'], TRPC_ERROR_CODE_KEY> = {
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  BAD_REQUEST: 'BAD_REQUEST',
};

const STATUS_BY_CODE: Partial<Record<TRPC_ERROR_CODE_KEY, number>> = {
  PARSE_ERROR: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_SUPPORTED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

export const INTERNAL_ERROR_MESSAGE = 'internal error';
const UNSUPPORTED_MEDIA_TYPE_MESSAGE = 'unsupported content-type: send application/json';

/** A domain error thrown by @sagaflow/db becomes the matching TRPCError, an unreachable database a 503; anything else is returned unchanged. */
export function mapDomainError(error: TRPCError): TRPCError {
  const cause = error.cause;
  if (cause instanceof QueryTimeoutError) {
    return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: cause.message, cause });
  }
  if (isDatabaseUnavailable(cause)) {
    return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable; retry shortly', cause });
  }
  if (!isDomainError(cause)) return error;
  return new TRPCError({ code: DOMAIN_TO_TRPC[cause.code], message: cause.message, cause });
}

/**
 * The body's `code` when it is more precise than the tRPC code: `QUERY_TIMEOUT` (503) for a search or count that ran
 * past SEARCH_STATEMENT_TIMEOUT_MS, so a client can tell "narrow your filters" from "the database is down".
 */
export function publicCodeOf(error: TRPCError): string | undefined {
  return error.cause instanceof QueryTimeoutError ? 'QUERY_TIMEOUT' : undefined;
}

/** HTTP status of a tRPC error code (500 for codes the API never answers with). */
export function statusOfCode(code: string): number {
  return STATUS_BY_CODE[code as TRPC_ERROR_CODE_KEY] ?? 500;
}

/** tRPC error code for an HTTP error status raised outside tRPC (Fastify's body parser, 404 routes). */
export function codeOfStatus(status: number): TRPC_ERROR_CODE_KEY {
  if (status === 400) return 'BAD_REQUEST';
  for (const [code, codeStatus] of Object.entries(STATUS_BY_CODE)) {
    if (codeStatus === status && code !== 'PARSE_ERROR') return code as TRPC_ERROR_CODE_KEY;
  }
  return status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST';
}

/** The error body; a 5xx never reveals its message. A PARSE_ERROR (bad JSON) is reported as BAD_REQUEST. */
export function toErrorBody(code: string, message: string, issues?: unknown[]): ErrorBody {
  if (statusOfCode(code) >= 500 && code !== 'SERVICE_UNAVAILABLE') {
    return { code: 'INTERNAL_SERVER_ERROR', message: INTERNAL_ERROR_MESSAGE };
  }
  const publicCode = code === 'PARSE_ERROR' ? 'BAD_REQUEST' : code;
  if (publicCode === 'UNSUPPORTED_MEDIA_TYPE') return { code: publicCode, message: UNSUPPORTED_MEDIA_TYPE_MESSAGE };
  return issues && issues.length > 0
    ? { code: publicCode, message, issues: issues as ErrorBody['issues'] }
    : { code: publicCode, message };
}
