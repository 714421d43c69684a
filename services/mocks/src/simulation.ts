import { readHeader, readPath, readRecord, readString } from './body-fields.js';

/** Failure injection requested by `input.simulate[opId]`. */
export type Simulation =
  { kind: 'reject' } | { kind: 'unavailable'; times: number } | { kind: 'hang' } | { kind: 'slow'; ms: number };

/** What the service does with one request. */
export type InjectionOutcome =
  { kind: 'reject' } | { kind: 'unavailable' } | { kind: 'hang' } | { kind: 'proceed'; delayMs: number };

export const MAX_SLOW_MS = 600_000;

/** Parses one `simulate` value (`reject`, `unavailable:N`, `hang`, `slow:<ms>`); anything else is null. */
export function parseSimulation(value: unknown): Simulation | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text === 'reject') return { kind: 'reject' };
  if (text === 'hang') return { kind: 'hang' };
  const match = /^(unavailable|slow):(\d{1,9})$/.exec(text);
  if (!match) return null;
  const amount = Number(match[2]);
  if (match[1] === 'unavailable') return { kind: 'unavailable', times: amount };
  return { kind: 'slow', ms: Math.min(amount, MAX_SLOW_MS) };
}

/**
 * The operation id that `simulate` is keyed by: `compensationId` for a compensation, else the step id
 * (body `stepId`, falling back to the `X-SagaFlow-Step-Id` header). A compensation without a
 * `compensationId` has no operation id, so action injections never leak into compensations.
 */
export function selectOperationId(
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  if (readPath(body, 'kind') === 'compensation') return readString(body, 'compensationId');
  return readString(body, 'stepId') ?? readHeader(headers, 'x-sagaflow-step-id');
}

/** Reads `input.simulate[opId]` (or a top-level `simulate[opId]` for template bodies). */
export function readSimulation(body: unknown, operationId: string | undefined): Simulation | null {
  if (operationId === undefined) return null;
  const table = readRecord(readPath(body, 'input', 'simulate')) ?? readRecord(readPath(body, 'simulate'));
  if (!table || !Object.hasOwn(table, operationId)) return null;
  return parseSimulation(table[operationId]);
}

/**
 * Decides the outcome of a request. `requestNumber` is 1-based: how many requests with this idempotency
 * key have arrived, this one included (always 1 when the request carries no key).
 */
export function decideInjection(simulation: Simulation | null, requestNumber: number): InjectionOutcome {
  if (simulation === null) return { kind: 'proceed', delayMs: 0 };
  switch (simulation.kind) {
    case 'reject':
      return { kind: 'reject' };
    case 'hang':
      return { kind: 'hang' };
    case 'unavailable':
      return requestNumber <= simulation.times ? { kind: 'unavailable' } : { kind: 'proceed', delayMs: 0 };
    case 'slow':
      return { kind: 'proceed', delayMs: simulation.ms };
  }
}
