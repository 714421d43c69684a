import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '@sagaflow/db';
import { registerDatabaseGauges } from '@sagaflow/observability/database-gauges';
import { registerRuntimeMetrics } from '@sagaflow/observability/runtime-metrics';

/** A registry with the default Node metrics; other modules register their counters on it. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * The API's share of the docs/contract.md#metrics: runs it started, the duration of runs it ended (a cancel with nothing to
 * undo ends the run at once), and the database gauges (read from Postgres at scrape time, as the engine does).
 */
export interface ApiMetrics {
  registry: Registry;
  /** runs created by start (an idempotent replay is not counted) */
  runsStarted: Counter;
  runDuration: Histogram<'workflowName' | 'status'>;
  /** signals stored in a run's mailbox (an idempotent replay is not counted) */
  signalsReceived: Counter;
  /** stops the event-loop probe and the pool-wait observer of `event_loop_delay_seconds` / `db_pool_wait_seconds` */
  stopRuntimeMetrics: () => void;
}

/** Run duration buckets: the same as the engine's, so the two histograms add up. */
const RUN_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Registers the API metrics on `registry` (reusing them when another app already registered them there). */
export function createApiMetrics(db: Db, registry: Registry = createMetricsRegistry()): ApiMetrics {
  const runsStarted =
    (registry.getSingleMetric('workflow_runs_started_total') as Counter | undefined) ??
    new Counter({
      name: 'workflow_runs_started_total',
      help: 'Runs created by start requests (idempotent replays not counted)',
      registers: [registry],
    });
  const runDuration =
    (registry.getSingleMetric('workflow_run_duration_seconds') as Histogram<'workflowName' | 'status'> | undefined) ??
    new Histogram({
      name: 'workflow_run_duration_seconds',
      help: 'Time from a run being started to reaching a terminal state, in seconds',
      labelNames: ['workflowName', 'status'] as const,
      buckets: RUN_DURATION_BUCKETS,
      registers: [registry],
    });
  const signalsReceived =
    (registry.getSingleMetric('signals_received_total') as Counter | undefined) ??
    new Counter({
      name: 'signals_received_total',
      help: 'Signals accepted into a run mailbox by POST /v1/runs/{runId}/signals/{name} (idempotent replays not counted)',
      registers: [registry],
    });
  if (!registry.getSingleMetric('outbox_backlog_total')) registerDatabaseGauges(registry, db);
  const stopRuntimeMetrics = registerRuntimeMetrics(registry, db);
  return { registry, runsStarted, runDuration, signalsReceived, stopRuntimeMetrics };
}

/**
 * The history hub's gauges, read at scrape time: `run_event_streams_open` (SSE streams this API serves now) and
 * `run_event_waits` (long polls and quiet streams waiting for a run's next event, each holding one timer). Both fall back
 * when clients disconnect. Skipped when the registry already has them (another app registered its own).
 */
export function registerRunEventsGauges(
  registry: Registry,
  hub: { stats(): { streams: number; waits: number } },
): void {
  if (registry.getSingleMetric('run_event_streams_open')) return;
  new Gauge({
    name: 'run_event_streams_open',
    help: 'Run history SSE streams (GET /v1/runs/{runId}/events/stream) open on this API process',
    registers: [registry],
    collect() {
      this.set(hub.stats().streams);
    },
  });
  new Gauge({
    name: 'run_event_waits',
    help: "Requests of this API process waiting for a run's next history event (long polls and quiet SSE streams)",
    registers: [registry],
    collect() {
      this.set(hub.stats().waits);
    },
  });
}

/** `GET /metrics`: the registry in Prometheus text format (request logs only at warn: scrapes come every few seconds). */
export function registerMetricsRoute(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
