/**
 * The closed set of domain errors that API and engine share. The API maps `code` to an HTTP status in one place.
 */
export type DomainErrorCode = 'NOT_FOUND' | 'CONFLICT' | 'BAD_REQUEST';

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
}

export class ConflictError extends DomainError {
  readonly code = 'CONFLICT';
}

export class InvalidInputError extends DomainError {
  readonly code = 'BAD_REQUEST';
}

/** The engine's fencing failure: the worker no longer holds the item's lease, so it commits nothing. */
export class LeaseLostError extends Error {
  readonly code = 'LEASE_LOST';
  constructor(readonly outboxId: string) {
    super(`lease on outbox item ${outboxId} was lost`);
    this.name = 'LeaseLostError';
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}

export function coerceError(error: unknown): Error {
  if (error instanceof Error) return error;
  return new Error(typeof error === 'string' ? error : JSON.stringify(error));
}

/**
 * SQLSTATE classes/codes that mean "Postgres cannot serve right now", not "this request is wrong". 25006
 * (read_only_sql_transaction): a write reached a server that is not the primary. Behind HAProxy that is a demoted
 * primary restarted as a replica during a failover, before the health check takes it out (≈ 1 s): retry, on a new
 * connection, and the write reaches the new primary.
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '25006',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const UNAVAILABLE_MESSAGES =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|Client has encountered a connection error/i;

/** True when an error (or its cause chain) says the database is unreachable or restarting: a 503, not a 500. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_SQLSTATES.has(code)) return true;
    const message = e instanceof Error ? e.message : '';
    if (UNAVAILABLE_MESSAGES.test(message) || (typeof code === 'string' && UNAVAILABLE_MESSAGES.test(code)))
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
