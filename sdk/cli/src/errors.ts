import { SagaFlowError, SagaFlowTimeoutError } from '@sagaflow/client';
import { CommanderError } from 'commander';

/** Exit codes (SPEC §16): 0 success, 1 the API refused (or could not be reached, or a waited run did not complete), 2 usage error. */
export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

/** A mistake in the command line: an unknown command or flag, bad JSON in --input, an unreadable file. Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Something other than the API's refusal that still means "did not succeed" (exit 1), e.g. a run that failed under --wait. */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface ErrorReport {
  exitCode: number;
  /** What `--json` prints (to stderr) as `{ "error": … }`. */
  body: { code: string; message: string; status?: number; issues?: unknown[] };
}

/** The exit code and the printed error of anything a command threw; never a stack trace for expected failures. */
export function describeError(error: unknown, url: string): ErrorReport {
  if (error instanceof SagaFlowError) {
    return {
      exitCode: EXIT.refused,
      body: {
        status: error.status,
        code: error.code,
        message: error.message,
        ...(error.issues ? { issues: error.issues } : {}),
      },
    };
  }
  if (error instanceof UsageError) return { exitCode: EXIT.usage, body: { code: 'USAGE', message: error.message } };
  if (error instanceof CommanderError) {
    return { exitCode: EXIT.usage, body: { code: 'USAGE', message: error.message.replace(/^error: /, '') } };
  }
  if (error instanceof CommandFailed)
    return { exitCode: EXIT.refused, body: { code: error.code, message: error.message } };
  if (error instanceof SagaFlowTimeoutError) {
    return { exitCode: EXIT.refused, body: { code: 'TIMEOUT', message: error.message } };
  }
  if (error instanceof TypeError && error.message === 'fetch failed') {
    const cause = error.cause instanceof Error ? error.cause : undefined;
    const why =
      cause && 'code' in cause && typeof cause.code === 'string' ? cause.code : (cause?.message ?? 'fetch failed');
    return {
      exitCode: EXIT.refused,
      body: { code: 'UNREACHABLE', message: `cannot reach the SagaFlow API at ${url} (${why})` },
    };
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { exitCode: EXIT.refused, body: { code: 'INTERNAL', message } };
}
