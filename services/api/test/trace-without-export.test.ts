import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObservedWorld, type ObservedWorld } from './observability/world.js';

/**
 * docs/contract.md#observability with tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT, no tracer registered in this file): the run's trace
 * context is minted at start, so every attempt of a run carries the same trace id, each with its own parent id.
 * The API is called over real HTTP, the engine calls a real downstream on loopback.
 */

const TRACE_PARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

let world: ObservedWorld;
let baseUrl: string;

beforeAll(async () => {
  world = await startObservedWorld({
    // step b: a retryable 503 first, then 200
    script: ({ path }, nth) => ({ status: path === '/trace-off/b' && nth === 1 ? 503 : 200 }),
  });
  await world.defineSaga('trace-off', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
  await world.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(world.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await world?.close();
});

async function startOverHttp(headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${baseUrl}/v1/workflows/trace-off/start`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ input: { orderId: 'o-1' } }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { runId: string }).runId;
}

/** [traceId, parentId] of each attempt the downstream received for the run, in arrival order. */
function attemptTraces(runId: string): Array<[string, string]> {
  return world.downstream.requests({ runId }).map((r) => {
    const match = TRACE_PARENT.exec(String(r.headers['traceparent']));
    expect(match, String(r.headers['traceparent'])).not.toBeNull();
    return [match![1]!, match![2]!];
  });
}

async function storedTraceId(runId: string): Promise<string | undefined> {
  const row = await world.db
    .selectFrom('workflow_runs')
    .select('trace_parent')
    .where('id', '=', runId)
    .executeTakeFirstOrThrow();
  return row.trace_parent ? TRACE_PARENT.exec(row.trace_parent)?.[1] : undefined;
}

describe('tracing off, no traceparent from the caller', () => {
  it('every attempt of a run (a retry included) carries the trace id minted at start, each with its own parent id', async () => {
    const runId = await startOverHttp();
    expect((await world.waitTerminal(runId)).run.status).toBe('COMPLETED');

    const traces = attemptTraces(runId);
    expect(traces).toHaveLength(4); // a, b (503), b, c
    const minted = await storedTraceId(runId);
    expect(minted).toBeDefined();
    expect(new Set(traces.map(([traceId]) => traceId))).toEqual(new Set([minted]));
    expect(new Set(traces.map(([, parentId]) => parentId)).size).toBe(4);
  });

  it('two runs get two different trace ids', async () => {
    const [first, second] = [await startOverHttp(), await startOverHttp()];
    await Promise.all([world.waitTerminal(first), world.waitTerminal(second)]);
    expect(attemptTraces(first)[0]![0]).not.toBe(attemptTraces(second)[0]![0]);
  });
});

describe('tracing off, a caller traceparent', () => {
  it('every attempt continues the caller trace', async () => {
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const runId = await startOverHttp({ traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` });
    await world.waitTerminal(runId);
    const traces = attemptTraces(runId);
    expect(traces.length).toBeGreaterThanOrEqual(3);
    expect(traces.every(([traceId, parentId]) => traceId === callerTrace && parentId !== '00f067aa0ba902b7')).toBe(
      true,
    );
  });
});
