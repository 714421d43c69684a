import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readHeader, readPath, readString, type JsonRecord } from './body-fields.js';
import { countRequest, type MockState, type OperationKind } from './mock-state.js';
import { decideInjection, readSimulation, selectOperationId } from './simulation.js';

/** What a route's handler sees: the parsed body (any shape, possibly undefined) and the headers. */
export interface OperationRequest {
  body: unknown;
  headers: IncomingHttpHeaders;
}

/** Builds the success body of one operation. Must not throw on any body shape. */
export type OperationHandler = (request: OperationRequest) => JsonRecord;

/** Per-service resources an operation needs beyond the state: open hanging responses and a close signal. */
export interface OperationContext {
  service: string;
  state: MockState;
  hanging: Set<ServerResponse>;
  closing: AbortSignal;
}

/** Handles one business request: injection, then deduplication by `X-Idempotency-Key`, then the effect. */
export async function handleOperation(
  context: OperationContext,
  operation: string,
  handler: OperationHandler,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const { body, headers } = request;
  const key = readHeader(headers, 'x-idempotency-key') ?? null;
  const requestNumber = countRequest(context.state, key);
  const outcome = decideInjection(readSimulation(body, selectOperationId(body, headers)), requestNumber);
  if (outcome.kind !== 'proceed' || outcome.delayMs > 0) {
    request.log.info({ operation, idempotencyKey: key, requestNumber, outcome }, 'simulated behaviour');
  }
  if (outcome.kind === 'reject') {
    return reply.code(422).send({ code: 'REJECTED', message: `${context.service} rejected ${operation} (simulated)` });
  }
  if (outcome.kind === 'unavailable') {
    return reply.code(503).send({ code: 'UNAVAILABLE', message: `${context.service} is unavailable (simulated)` });
  }
  if (outcome.kind === 'hang') {
    holdOpen(context, reply);
    return undefined;
  }
  if (outcome.delayMs > 0 && !(await waitUnlessClosing(outcome.delayMs, context.closing))) {
    reply.hijack();
    reply.raw.destroy();
    return undefined;
  }
  const stored = key === null ? undefined : context.state.responses.get(key);
  if (stored) return reply.code(stored.status).header('x-mock-replayed', 'true').send(stored.body);
  const response = handler({ body, headers });
  context.state.effects.push({
    service: context.service,
    operation,
    idempotencyKey: key,
    runId: readString(body, 'runId') ?? readHeader(headers, 'x-sagaflow-run-id') ?? null,
    stepId: readString(body, 'stepId') ?? readHeader(headers, 'x-sagaflow-step-id') ?? null,
    kind: readKind(body, key),
    at: new Date().toISOString(),
    response,
  });
  if (key !== null) context.state.responses.set(key, { status: 200, body: response });
  return reply.code(200).send(response);
}

/** Never answers: the response stays open until the client (or the server's close) ends the connection. */
function holdOpen(context: OperationContext, reply: FastifyReply): void {
  reply.hijack();
  const raw = reply.raw;
  context.hanging.add(raw);
  raw.once('close', () => context.hanging.delete(raw));
}

async function waitUnlessClosing(ms: number, closing: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal: closing });
    return true;
  } catch {
    return false;
  }
}

function readKind(body: unknown, key: string | null): OperationKind {
  const kind = readPath(body, 'kind');
  if (kind === 'action' || kind === 'compensation') return kind;
  return key?.endsWith(':compensate') ? 'compensation' : 'action';
}
