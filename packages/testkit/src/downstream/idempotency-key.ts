/** What a step's request is for: its action or its compensation. */
export type RequestKind = 'action' | 'compensation';

/** What an `X-Idempotency-Key` SagaFlow sends names: `<runId>:<stepId>` or `<runId>:<stepId>:compensate`. */
export interface ParsedKey {
  runId: string;
  stepId: string;
  kind: RequestKind;
}

/** Parses an idempotency key; undefined when it is not one SagaFlow sends. */
export function parseIdempotencyKey(key: string): ParsedKey | undefined {
  const parts = key.split(':');
  if (parts.length === 2 && parts[0] && parts[1]) return { runId: parts[0], stepId: parts[1], kind: 'action' };
  if (parts.length === 3 && parts[0] && parts[1] && parts[2] === 'compensate') {
    return { runId: parts[0], stepId: parts[1], kind: 'compensation' };
  }
  return undefined;
}

/** The key SagaFlow sends for a step's action or compensation. */
export function formatIdempotencyKey(runId: string, stepId: string, kind: RequestKind): string {
  return kind === 'action' ? `${runId}:${stepId}` : `${runId}:${stepId}:compensate`;
}
