/** Thrown by every SDK call that gets a non-2xx answer; carries the API's `{ code, message, issues? }`. */
export class SagaFlowError extends Error {
  override readonly name = 'SagaFlowError';
  /** HTTP status, e.g. 404. */
  readonly status: number;
  /** tRPC error code from the body, e.g. NOT_FOUND, CONFLICT, BAD_REQUEST, TOO_MANY_REQUESTS. */
  readonly code: string;
  /** zod validation issues (400 only). */
  readonly issues?: unknown[];
  /** Seconds from `Retry-After` (429 only). */
  readonly retryAfterSeconds?: number;

  constructor(init: { status: number; code: string; message: string; issues?: unknown[]; retryAfterSeconds?: number }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    if (init.issues) this.issues = init.issues;
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** Rejected by `runs.waitForCompletion` when the run is not terminal in time. */
export class SagaFlowTimeoutError extends Error {
  override readonly name = 'SagaFlowTimeoutError';
  constructor(
    readonly runId: string,
    /** The last status seen before giving up. */
    readonly lastStatus: string | undefined,
    timeoutMs: number,
  ) {
    super(`run ${runId} not terminal after ${timeoutMs} ms (last status: ${lastStatus ?? 'unknown'})`);
  }
}

/** Builds the error of a non-2xx response from its (parsed) body, whatever shape it has. */
export function toSagaFlowError(response: Response, body: unknown): SagaFlowError {
  const shape = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const retryAfter = Number(response.headers.get('retry-after'));
  return new SagaFlowError({
    status: response.status,
    code: typeof shape.code === 'string' ? shape.code : `HTTP_${response.status}`,
    message:
      typeof shape.message === 'string'
        ? shape.message
        : typeof body === 'string' && body !== ''
          ? body
          : `HTTP ${response.status} ${response.statusText}`.trim(),
    issues: Array.isArray(shape.issues) ? shape.issues : undefined,
    retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  });
}
