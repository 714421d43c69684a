import { readOutboxStats, type Db, type OutboxStats } from '@sagaflow/db';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The engine's Prometheus metrics (SPEC §8 names). Gauges that describe the database are read from Postgres
 * at scrape time, so every instance reports the same truth.
 */
export function createEngineMetrics(db: Db) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const stepAttempts = new Counter({ name: 'step_attempts_total', help: 'Step and compensation attempts by outcome', labelNames: ['stepId', 'status'], registers: [registry] });
  const stepRetries = new Counter({ name: 'step_retries_total', help: 'Retries scheduled, by attempt type (action or compensation)', labelNames: ['stepId', 'attemptType'], registers: [registry] });
  const stepLatency = new Histogram({
    name: 'step_latency_ms',
    help: 'Downstream latency of one attempt in milliseconds',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000],
    registers: [registry],
  });
  const runsCompleted = new Counter({ name: 'workflow_runs_completed_total', help: 'Runs that ended COMPLETED', registers: [registry] });
  const runsFailed = new Counter({ name: 'workflow_runs_failed_total', help: 'Runs that ended FAILED', registers: [registry] });
  const runsCompensated = new Counter({ name: 'workflow_runs_compensated_total', help: 'Runs that ended COMPENSATED', registers: [registry] });
  const runDuration = new Histogram({
    name: 'workflow_run_duration_seconds',
    help: 'Time from start to a terminal state',
    labelNames: ['workflowName', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  // one query per scrape feeds the three database gauges
  let stats: Promise<OutboxStats> | undefined;
  const readStats = () => (stats ??= readOutboxStats(db).finally(() => setTimeout(() => (stats = undefined), 50)));
  new Gauge({ name: 'outbox_backlog_total', help: 'Outbox items due now and not leased', registers: [registry], async collect() { this.set((await readStats()).backlog); } });
  new Gauge({ name: 'outbox_lag_seconds', help: 'How long the oldest due outbox item has been waiting', registers: [registry], async collect() { this.set((await readStats()).lagSeconds); } });
  new Gauge({ name: 'workflow_active_runs', help: 'Runs not yet terminal', registers: [registry], async collect() { this.set((await readStats()).activeRuns); } });
  return { registry, stepAttempts, stepRetries, stepLatency, runsCompleted, runsFailed, runsCompensated, runDuration };
}

export type EngineMetrics = ReturnType<typeof createEngineMetrics>;
