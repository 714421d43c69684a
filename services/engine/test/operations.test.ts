import { createOperation, getOperation } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../src/index.js';
import { createEngineHarness, type EngineHarness, type Saga } from './helpers/harness.js';

/** Bulk operations processed by engines (docs/operations.md#bulk-operations): actions, history, logs, rate. */

let h: EngineHarness;
beforeAll(async () => {
  h = await createEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Starts `n` runs of a saga whose only step answers 422 until `failing.on` is false; waits until all are FAILED. */
async function failedRuns(
  name: string,
  n: number,
): Promise<{ saga: Saga; runIds: string[]; failing: { on: boolean } }> {
  const saga = await h.defineSaga(name, [{ id: 'a' }]);
  const failing = { on: true };
  h.downstream.script(saga.path('a'), () => (failing.on ? { status: 422 } : { status: 200, body: { ok: true } }));
  const runIds: string[] = [];
  for (let i = 0; i < n; i++) runIds.push(await saga.start({ i }));
  for (const runId of runIds) await h.waitStatus(runId, 'FAILED', 20_000);
  return { saga, runIds, failing };
}

async function operatorActions(runId: string) {
  return h.db
    .selectFrom('run_events')
    .select('data')
    .where('run_id', '=', runId)
    .where('type', '=', 'OPERATOR_ACTION')
    .execute();
}

describe('bulk operations in the engine', () => {
  it('redrives every failed run of a filter once: OPERATOR_ACTION names the operation, runs complete, lines logged', async () => {
    const { saga, runIds, failing } = await failedRuns('bulk-redrive', 12);
    failing.on = false;
    // an engine serving /metrics takes over
    await h.stopEngine();
    const engine = await h.startEngine({ port: 0, host: '127.0.0.1' });
    const filter = { workflowName: saga.name, status: ['FAILED'] };
    const { operationId, matched } = await createOperation(h.db, {
      action: 'redrive',
      filter,
      runFilter: { workflowName: saga.name, statuses: ['FAILED'] },
      ratePerSecond: 1000,
      reason: 'downstream fixed',
    });
    expect(matched).toBe(12);
    const done = await waitFor(
      async () => {
        const view = await getOperation(h.db, operationId);
        return view?.status === 'COMPLETED' ? view : undefined;
      },
      { timeoutMs: 20_000, description: 'the operation to complete' },
    );
    expect(done).toMatchObject({ total: 12, succeeded: 12, skipped: 0, failed: 0, errors: [] });
    for (const runId of runIds) {
      expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
      expect((await operatorActions(runId)).map((e) => e.data)).toEqual([
        { action: 'redrive', reason: 'downstream fixed', operationId },
      ]);
      // the failed attempt, then the redriven one: nothing twice
      expect(h.downstream.requests({ runId })).toHaveLength(2);
    }
    const lines = h.logs().filter((l) => l['msg'] === 'operator action' && l['operationId'] === operationId);
    expect(new Set(lines.map((l) => l['runId']))).toEqual(new Set(runIds));
    expect(lines.every((l) => l['action'] === 'redrive' && l['outcome'] === 'succeeded')).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${engine.port}/metrics`)).text();
    expect(metrics).toMatch(/operations_runs_total\{action="redrive",outcome="succeeded"\} 12/);
  });

  it('skips runs no longer eligible when their turn comes (redrive of a completed run)', async () => {
    const { saga, runIds, failing } = await failedRuns('bulk-skip', 3);
    failing.on = false;
    const { operationId } = await createOperation(h.db, {
      action: 'redrive',
      filter: { workflowName: saga.name },
      runFilter: { workflowName: saga.name },
      ratePerSecond: 1000,
      reason: null,
    });
    const done = await waitFor(
      async () => {
        const view = await getOperation(h.db, operationId);
        return view?.status === 'COMPLETED' ? view : undefined;
      },
      { timeoutMs: 20_000, description: 'the first operation to complete' },
    );
    expect(done.succeeded).toBe(3);
    for (const runId of runIds) await h.waitStatus(runId, 'COMPLETED');
    // the same filter again: every run is COMPLETED now, so each is skipped with the reason
    const again = await createOperation(h.db, {
      action: 'redrive',
      filter: { workflowName: saga.name },
      runFilter: { workflowName: saga.name },
      ratePerSecond: 1000,
      reason: null,
    });
    const skipped = await waitFor(
      async () => {
        const view = await getOperation(h.db, again.operationId);
        return view?.status === 'COMPLETED' ? view : undefined;
      },
      { timeoutMs: 20_000, description: 'the second operation to complete' },
    );
    expect(skipped).toMatchObject({ total: 3, succeeded: 0, skipped: 3, failed: 0 });
    for (const runId of runIds) expect(await operatorActions(runId)).toHaveLength(1);
  });

  it('two engines together stay within ratePerSecond', async () => {
    const { saga, failing } = await failedRuns('bulk-rate', 40);
    failing.on = false;
    const second = await startEngine({
      databaseUrl: h.database.url,
      serviceUrls: {},
      port: null,
      pollIntervalMs: 50,
      poolSize: 4,
      logger: pino({ level: 'silent' }),
    });
    try {
      const rate = 20;
      const { operationId } = await createOperation(h.db, {
        action: 'redrive',
        filter: { workflowName: saga.name },
        runFilter: { workflowName: saga.name },
        ratePerSecond: rate,
        reason: null,
      });
      await waitFor(async () => (await getOperation(h.db, operationId))?.status === 'COMPLETED', {
        timeoutMs: 30_000,
        description: 'the rate-limited operation to complete',
      });
      const rows = await h.db
        .selectFrom('operation_runs')
        .select('done_at')
        .where('operation_id', '=', operationId)
        .orderBy('done_at')
        .execute();
      const times = rows.map((r) => r.done_at!.getTime());
      expect(rows).toHaveLength(40);
      // reservations of 2 runs (a tenth of a second at 20/s), each 100 ms after the last: 40 runs take ≥ 1.9 s
      const spreadMs = times.at(-1)! - times[0]!;
      expect(spreadMs).toBeGreaterThanOrEqual(((40 - 2) / rate) * 1000 - 50);
      // and in no window of one second were more than rate + one batch taken
      for (const start of times) {
        const inWindow = times.filter((t) => t >= start && t < start + 1000);
        expect(inWindow.length).toBeLessThanOrEqual(rate + 2);
      }
    } finally {
      await second.stop();
    }
  });
});
