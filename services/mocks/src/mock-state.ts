import type { JsonRecord } from './body-fields.js';

export type OperationKind = 'action' | 'compensation';

/** One effect: the first successful processing of an idempotency key (or of a request without one). */
export interface MockEffect {
  service: string;
  operation: string;
  idempotencyKey: string | null;
  runId: string | null;
  stepId: string | null;
  kind: OperationKind;
  at: string;
  response: JsonRecord;
}

/** One received request, duplicates and failures included. `status` is null until a response is sent. */
export interface MockRequestEntry {
  idempotencyKey: string | null;
  attempt: number | null;
  path: string;
  at: string;
  status: number | null;
}

/** The stored first success for a key, replayed verbatim to later requests with the same key. */
export interface StoredResponse {
  status: number;
  body: JsonRecord;
}

/** In-memory state of one mock service; `reset` clears everything. */
export interface MockState {
  readonly effects: MockEffect[];
  readonly requests: MockRequestEntry[];
  readonly responses: Map<string, StoredResponse>;
  readonly requestCounts: Map<string, number>;
}

export function createMockState(): MockState {
  return { effects: [], requests: [], responses: new Map(), requestCounts: new Map() };
}

export function resetMockState(state: MockState): void {
  state.effects.length = 0;
  state.requests.length = 0;
  state.responses.clear();
  state.requestCounts.clear();
}

/** Counts one more request for the key and returns its 1-based number (1 when there is no key). */
export function countRequest(state: MockState, idempotencyKey: string | null): number {
  if (idempotencyKey === null) return 1;
  const next = (state.requestCounts.get(idempotencyKey) ?? 0) + 1;
  state.requestCounts.set(idempotencyKey, next);
  return next;
}
