import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimOutboxBatch, createDb, createPool, releaseLeases } from '@sagaflow/db';
import { statusesByAttempt, waitFor } from '@sagaflow/testkit';
import { createEngineMetrics } from '../src/metrics.js';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';

/** The engine's side of docs/contract.md#observability: what it logs about each run, and metrics that survive a dead database. */

let h: EngineHarness;
beforeAll(async () => {
  h = await createEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

const fastRetry = { maxAttempts: 3, initialIntervalMs: 10, backoffCoefficient: 1, jitter: 'none' } as const;

describe('engine logs', () => {
  it('every line about a run carries its ids; PENDING → RUNNING is logged once even when the first step retries', async () => {
    const saga = await h.defineSaga('obs-log', [{ id: 'a', compensation: true }, { id: 'b' }], { retry: fastRetry });
    h.downstream.script(saga.path('a'), statusesByAttempt(503, 503, 200));
    const runId = await saga.start({ orderId: 'o-1' }, undefined, { correlationId: 'corr-obs-log' });
    expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
    await h.stopEngine();

    const lines = h.logs().filter((r) => r['runId'] === runId);
    for (const line of lines) {
      expect(line).toMatchObject({
        correlationId: 'corr-obs-log',
        workflowName: 'obs-log',
        stepId: expect.any(String),
        attemptNo: expect.any(Number),
      });
    }
    expect(
      lines.filter((r) => r['msg'] === 'run transition').map((r) => [r['from'], r['to'], r['stepId'], r['attemptNo']]),
    ).toEqual([
      ['PENDING', 'RUNNING', 'a', 1],
      ['RUNNING', 'COMPLETED', 'b', 1],
    ]);
    const retries = lines.filter((r) => r['msg'] === 'step attempt failed; retry scheduled');
    expect(retries.map((r) => [r['attemptNo'], r['retryInMs'], r['httpStatus']])).toEqual([
      [1, 10, 503],
      [2, 10, 503],
    ]);
    expect(lines.filter((r) => r['msg'] === 'step attempt succeeded').map((r) => r['stepId'])).toEqual(['a', 'b']);
    await h.startEngine();
  });
});

describe('claimOutboxBatch reports the claim that started the run', () => {
  it('started is true once: for the claim that moved the run PENDING → RUNNING, not for a redelivery', async () => {
    await h.stopEngine();
    try {
      const saga = await h.defineSaga('obs-claim', [{ id: 'a' }]);
      const runId = await saga.start();
      const [first] = (await claimOutboxBatch(h.db, 'test-owner', 10, 60_000)).filter((i) => i.runId === runId);
      expect(first).toMatchObject({ started: true, state: { status: 'RUNNING' } });
      await releaseLeases(h.db, [{ id: first!.id, leaseToken: first!.leaseToken }]);
      const [again] = (await claimOutboxBatch(h.db, 'test-owner', 10, 60_000)).filter((i) => i.runId === runId);
      expect(again).toMatchObject({ id: first!.id, started: false, state: { status: 'RUNNING' } });
      await releaseLeases(h.db, [{ id: again!.id, leaseToken: again!.leaseToken }]);
    } finally {
      await h.startEngine();
    }
  });
});

describe('engine metrics', () => {
  it('the database gauges read NaN while Postgres is unreachable; the rest of the scrape still works', async () => {
    const pool = createPool('postgres://postgres@127.0.0.1:1/postgres', { connectionTimeoutMillis: 500 });
    const db = createDb(pool);
    try {
      const text = await createEngineMetrics(db).registry.metrics();
      expect(text).toMatch(/^outbox_backlog_total NaN$/im);
      expect(text).toMatch(/^outbox_lag_seconds NaN$/im);
      expect(text).toMatch(/^workflow_active_runs NaN$/im);
      expect(text).toMatch(/^outbox_dead_total\{kind="action"\} NaN$/im);
      expect(text).toMatch(/^outbox_dead_total\{kind="compensation"\} NaN$/im);
      expect(text).toContain('process_cpu_user_seconds_total');
    } finally {
      await db.destroy();
    }
  });

  it('outbox_dead_total counts parked items by kind, exactly, and they are not backlog', async () => {
    const metrics = createEngineMetrics(h.db);
    const dead = async (kind: string): Promise<number> => {
      const text = await metrics.registry.metrics();
      const line = text.split('\n').find((l) => l.startsWith(`outbox_dead_total{kind="${kind}"} `));
      return Number(line?.split(' ')[1]);
    };
    expect([await dead('action'), await dead('compensation')]).toEqual([0, 0]);
    await h.stopEngine();
    try {
      const saga = await h.defineSaga('obs-dead', [{ id: 'a' }]);
      const runIds = [await saga.start(), await saga.start(), await saga.start()];
      const park = (runId: string, kind: 'action' | 'compensation') =>
        h.db.updateTable('outbox').set({ status: 'DEAD', kind }).where('run_id', '=', runId).execute();
      await park(runIds[0]!, 'action');
      await park(runIds[1]!, 'action');
      await park(runIds[2]!, 'compensation');
      // the gauges share one read for 50 ms: wait for a fresh one
      await waitFor(async () => (await dead('compensation')) === 1, { timeoutMs: 2_000, description: 'a fresh read' });
      expect([await dead('action'), await dead('compensation')]).toEqual([2, 1]);
      const text = await metrics.registry.metrics();
      expect(text).toContain('# TYPE outbox_dead_total gauge');
      expect(text).toMatch(/^outbox_backlog_total 0$/m);
      await h.db.deleteFrom('outbox').where('run_id', 'in', runIds).execute();
      await h.db.deleteFrom('workflow_runs').where('id', 'in', runIds).execute();
    } finally {
      await h.startEngine();
    }
  });

  it('stopping an engine twice (also concurrently) stops it once: one "engine stopped", nothing claimed after', async () => {
    const engine = h.engine!;
    const stoppedLines = (): number => h.logs().filter((r) => r['msg'] === 'engine stopped').length;
    const before = stoppedLines();
    await Promise.all([engine.stop(), engine.stop()]);
    await engine.stop();
    expect(stoppedLines()).toBe(before + 1);

    // the stopped engine claims nothing: a run started now stays PENDING with its first item unleased
    const saga = await h.defineSaga('obs-stopped', [{ id: 'a' }]);
    const runId = await saga.start();
    expect(await engine.engine.tick()).toBe(false);
    expect((await h.getRun(runId)).run.status).toBe('PENDING');
    expect(await h.outbox(runId)).toEqual([
      expect.objectContaining({ status: 'READY', deliveries: 0, lease_owner: null }),
    ]);
    expect(h.downstream.requests({ runId })).toEqual([]);

    await h.stopEngine();
    await h.startEngine();
    expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
  });
});
