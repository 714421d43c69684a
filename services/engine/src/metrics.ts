import type { Db } from '@sagaflow/db';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerDatabaseGauges } from '@sagaflow/observability/database-gauges';
import { registerRuntimeMetrics } from '@sagaflow/observability/runtime-metrics';

/**
 * The engine's Prometheus metrics (names of docs/contract.md#metrics). Gauges that describe the database are read from Postgres
 * at scrape time, so every instance reports the same truth.
 */
export function createEngineMetrics(db: Db) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const stepAttempts = new Counter({
    name: 'step_attempts_total',
    help: 'Recorded attempts by outcome (SUCCEEDED, RETRYABLE, FAILED); a compensation attempt counts under its step id',
    labelNames: ['stepId', 'status'],
    registers: [registry],
  });
  const stepRetries = new Counter({
    name: 'step_retries_total',
    help: 'Retries scheduled after a retryable failure, by step and attempt type (action or compensation)',
    labelNames: ['stepId', 'attemptType'],
    registers: [registry],
  });
  const stepLatency = new Histogram({
    name: 'step_latency_ms',
    help: 'Time from sending an attempt to reading its whole response (or its timeout/error), in milliseconds',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000],
    registers: [registry],
  });
  const stepCommit = new Histogram({
    name: 'step_commit_seconds',
    help:
      "Time from an attempt's end to its outcome committed: the wait for the group commit, the writer statement and " +
      'the commit (retries of a failed commit included), in seconds',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  const runsCompleted = new Counter({
    name: 'workflow_runs_completed_total',
    help: 'Runs that ended COMPLETED',
    registers: [registry],
  });
  const runsFailed = new Counter({
    name: 'workflow_runs_failed_total',
    help: 'Runs that ended FAILED',
    registers: [registry],
  });
  const runsCompensated = new Counter({
    name: 'workflow_runs_compensated_total',
    help: 'Runs that ended COMPENSATED',
    registers: [registry],
  });
  const runDuration = new Histogram({
    name: 'workflow_run_duration_seconds',
    help: 'Time from a run being started to reaching a terminal state, in seconds',
    labelNames: ['workflowName', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const operationRuns = new Counter({
    name: 'operations_runs_total',
    help: 'Runs of bulk operations processed by this engine, by action and outcome (succeeded, skipped, failed)',
    labelNames: ['action', 'outcome'],
    registers: [registry],
  });
  const scheduleFires = new Counter({
    name: 'schedule_fires_total',
    help:
      'Schedule fire times by outcome: fired (a run started), skipped (overlap skip: the previous run was still going), ' +
      'missed (passed while no engine ran; only the latest of them fired), failed (the run could not be started)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const runsTaken = new Counter({
    name: 'engine_runs_taken_total',
    help:
      'Runs whose first step this engine took, by how: handoff (the start leased it to this engine and NOTIFYd it; ' +
      'docs/architecture.md#the-first-step-handed-to-an-engine) or claim (from the outbox)',
    labelNames: ['via'],
    registers: [registry],
  });
  registerDatabaseGauges(registry, db);
  /** stops the event-loop probe and the pool-wait observer (event_loop_delay_seconds, db_pool_wait_seconds) */
  const stopRuntimeMetrics = registerRuntimeMetrics(registry, db);
  return {
    stopRuntimeMetrics,
    registry,
    stepAttempts,
    stepRetries,
    stepLatency,
    stepCommit,
    runsCompleted,
    runsFailed,
    runsCompensated,
    runDuration,
    operationRuns,
    scheduleFires,
    runsTaken,
  };
}

export type EngineMetrics = ReturnType<typeof createEngineMetrics>;
