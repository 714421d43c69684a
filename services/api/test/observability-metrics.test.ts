import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineMetrics } from '@sagaflow/engine';
import { waitFor } from '@sagaflow/testkit';
import { sampleValue, samplesOf } from './observability/prometheus-text.js';
import { startObservedWorld, type ObservedWorld } from './observability/world.js';

/**
 * docs/contract.md#metrics, exact values after a known set of runs: one COMPLETED, one COMPENSATED, one FAILED (after a
 * retry), plus an idempotent replay that must not count as a start.
 */

let world: ObservedWorld;
let api: string;
let engine: string;

beforeAll(async () => {
  world = await startObservedWorld({
    script: ({ path }, nth) => {
      if (path === '/m-comp/comp-b') return { status: 422 }; // permanent: compensate comp-a
      if (path === '/m-fail/fail-a') return { status: 503 }; // retryable, twice: the run FAILS (nothing to undo)
      return { status: 200, body: { ok: true, nth } };
    },
  });
  await world.defineSaga('m-ok', [{ id: 'ok-a', compensation: true }, { id: 'ok-b' }]);
  await world.defineSaga('m-comp', [{ id: 'comp-a', compensation: true }, { id: 'comp-b' }]);
  await world.defineSaga('m-fail', [{ id: 'fail-a', retry: { maxAttempts: 2 } }]);

  const ok = await world.start('m-ok', { orderId: 'o-1' }, { 'idempotency-key': 'metrics-ok' });
  const replay = await world.start('m-ok', { orderId: 'o-1' }, { 'idempotency-key': 'metrics-ok' });
  expect(replay).toBe(ok);
  const runs = [ok, await world.start('m-comp', { orderId: 'o-2' }), await world.start('m-fail', { orderId: 'o-3' })];
  const ended = await Promise.all(runs.map((runId) => world.waitTerminal(runId)));
  expect(ended.map((v) => v.run.status)).toEqual(['COMPLETED', 'COMPENSATED', 'FAILED']);
  api = await world.scrapeApi();
  // the engine counts a completion right after committing it: the run can look terminal a moment earlier
  engine = await waitFor(
    async () => {
      const text = await world.scrapeEngine();
      const ended = ['completed', 'compensated', 'failed'].map(
        (s) => sampleValue(text, `workflow_runs_${s}_total`) ?? 0,
      );
      return ended.reduce((a, b) => a + b, 0) === 3 ? text : undefined;
    },
    { timeoutMs: 5_000, intervalMs: 20, description: 'the engine to count the three ended runs' },
  );
});

afterAll(async () => {
  await world?.close();
});

describe('run counters', () => {
  it('the API counts runs it created, not the idempotent replay', () => {
    expect(sampleValue(api, 'workflow_runs_started_total')).toBe(3);
  });

  it('the engine counts each terminal outcome once', () => {
    expect(sampleValue(engine, 'workflow_runs_completed_total')).toBe(1);
    expect(sampleValue(engine, 'workflow_runs_compensated_total')).toBe(1);
    expect(sampleValue(engine, 'workflow_runs_failed_total')).toBe(1);
  });

  it('workflow_run_duration_seconds has one observation per ended run, by workflowName and status', () => {
    const count = (workflowName: string, status: string) =>
      sampleValue(engine, 'workflow_run_duration_seconds_count', { workflowName, status });
    expect(count('m-ok', 'COMPLETED')).toBe(1);
    expect(count('m-comp', 'COMPENSATED')).toBe(1);
    expect(count('m-fail', 'FAILED')).toBe(1);
    expect(samplesOf(engine, 'workflow_run_duration_seconds_count')).toHaveLength(3);
    const infinite = sampleValue(engine, 'workflow_run_duration_seconds_bucket', {
      le: '+Inf',
      workflowName: 'm-ok',
      status: 'COMPLETED',
    });
    expect(infinite).toBe(1);
  });
});

describe('step counters', () => {
  it('step_attempts_total{stepId,status}: every recorded attempt once (a compensation under its step id)', () => {
    const attempts = samplesOf(engine, 'step_attempts_total').map((s) => [
      s.labels['stepId'],
      s.labels['status'],
      s.value,
    ]);
    expect(attempts.sort()).toEqual(
      [
        ['ok-a', 'SUCCEEDED', 1],
        ['ok-b', 'SUCCEEDED', 1],
        ['comp-a', 'SUCCEEDED', 2], // the action, then its compensation
        ['comp-b', 'FAILED', 1],
        ['fail-a', 'RETRYABLE', 1],
        ['fail-a', 'FAILED', 1],
      ].sort(),
    );
  });

  it('step_retries_total{stepId,attemptType}: the one retry scheduled', () => {
    expect(samplesOf(engine, 'step_retries_total').map((s) => [s.labels, s.value])).toEqual([
      [{ stepId: 'fail-a', attemptType: 'action' }, 1],
    ]);
  });

  it('step_latency_ms observes every request sent', () => {
    expect(sampleValue(engine, 'step_latency_ms_count')).toBe(7);
    expect(world.downstream.requests()).toHaveLength(7);
  });

  it('step_commit_seconds observes every committed attempt outcome', () => {
    expect(sampleValue(engine, 'step_commit_seconds_count')).toBe(7);
    expect(sampleValue(engine, 'step_commit_seconds_bucket', { le: '+Inf' })).toBe(7);
    expect(sampleValue(engine, 'step_commit_seconds_sum')).toBeGreaterThan(0);
  });
});

describe('database gauges', () => {
  it('API and engine both read them from Postgres: nothing active, nothing waiting', () => {
    for (const text of [api, engine]) {
      expect(sampleValue(text, 'workflow_active_runs')).toBe(0);
      expect(sampleValue(text, 'outbox_backlog_total')).toBe(0);
      expect(sampleValue(text, 'outbox_lag_seconds')).toBe(0);
    }
  });

  it('both expose event_loop_delay_seconds and db_pool_wait_seconds, sampled by their own process and pool', () => {
    for (const text of [api, engine]) {
      expect(text).toContain('# TYPE event_loop_delay_seconds histogram');
      expect(text).toContain('# TYPE db_pool_wait_seconds histogram');
      expect(sampleValue(text, 'event_loop_delay_seconds_count')).toBeGreaterThan(0);
      // every query of the runs above checked out a connection of that process's pool
      expect(sampleValue(text, 'db_pool_wait_seconds_count')).toBeGreaterThanOrEqual(3);
      expect(sampleValue(text, 'db_pool_wait_seconds_bucket', { le: '+Inf' })).toBe(
        sampleValue(text, 'db_pool_wait_seconds_count'),
      );
    }
  });

  it('both expose the default Node process metrics', () => {
    for (const text of [api, engine]) {
      expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
      expect(text).toContain('nodejs_heap_size_used_bytes');
    }
  });
});

describe('database gauges with work waiting and no engine', () => {
  let idle: ObservedWorld;

  beforeAll(async () => {
    idle = await startObservedWorld({ script: () => ({ status: 200 }), engine: false });
    await idle.defineSaga('m-idle', [{ id: 'only' }]);
    for (let i = 0; i < 3; i++) await idle.start('m-idle', { i });
  });

  afterAll(async () => {
    await idle?.close();
  });

  it('every instance (the API and two engines\u2019 registries) reports the same backlog and active runs', async () => {
    const engines = [createEngineMetrics(idle.db), createEngineMetrics(idle.db)];
    const texts = [await idle.scrapeApi(), ...(await Promise.all(engines.map((m) => m.registry.metrics())))];
    for (const text of texts) {
      expect(sampleValue(text, 'outbox_backlog_total')).toBe(3);
      expect(sampleValue(text, 'workflow_active_runs')).toBe(3);
      expect(sampleValue(text, 'outbox_lag_seconds')).toBeGreaterThanOrEqual(0);
    }
    expect(sampleValue(texts[0]!, 'workflow_runs_started_total')).toBe(3);
  });
});
