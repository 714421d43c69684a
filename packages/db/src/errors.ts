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
