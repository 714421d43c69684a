// @sagaflow/observability/runtime-metrics: the event-loop delay and pool-wait histograms of services/api and
// services/engine (its own entry: it loads pg through @sagaflow/db).
import { observePoolWaits, poolOf, type Db } from '@sagaflow/db';
import { Histogram, type Registry } from 'prom-client';

/** How often the event-loop probe is due: the resolution of `event_loop_delay_seconds`. */
export const EVENT_LOOP_PROBE_INTERVAL_MS = 10;

const EVENT_LOOP_DELAY_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const POOL_WAIT_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Registers on `registry` (once: skipped when it already has them):
 *
 * - `event_loop_delay_seconds`: a timer due every 10 ms records how late it ran — the time a callback that became
 *   ready waited for the loop (a long synchronous task, a GC pause, a CPU-starved process). A cumulative histogram,
 *   so unlike prom-client's `nodejs_eventloop_lag_p99_seconds` (a percentile of the last scrape interval, reset at each
 *   scrape) it aggregates over time and across instances: `histogram_quantile(0.99, sum by (le) (rate(…_bucket[5m])))`.
 * - `db_pool_wait_seconds`: every checkout of the process's Postgres pool, from the request to the connection handed
 *   over (an idle connection: microseconds; a new one: its connect time; all busy: until one is released, or the
 *   connection timeout).
 *
 * Returns the function that stops the probe and the pool observer (tests building many apps in one process).
 */
export function registerRuntimeMetrics(registry: Registry, db: Db): () => void {
  if (registry.getSingleMetric('event_loop_delay_seconds')) return () => {};
  const eventLoopDelay = new Histogram({
    name: 'event_loop_delay_seconds',
    help: `How late a timer due every ${EVENT_LOOP_PROBE_INTERVAL_MS} ms ran: the event-loop delay, in seconds`,
    buckets: EVENT_LOOP_DELAY_BUCKETS,
    registers: [registry],
  });
  const poolWait = new Histogram({
    name: 'db_pool_wait_seconds',
    help: 'Time a checkout (a query or transaction) waited for a Postgres pool connection, in seconds',
    buckets: POOL_WAIT_BUCKETS,
    registers: [registry],
  });
  const stopProbe = probeEventLoop((seconds) => eventLoopDelay.observe(seconds));
  const pool = poolOf(db);
  const stopPool = pool ? observePoolWaits(pool, (seconds) => poolWait.observe(seconds)) : () => {};
  return () => {
    stopProbe();
    stopPool();
  };
}

/** Calls `observe` every interval with how late the interval's timer ran (0 when on time). Does not keep the process alive. */
function probeEventLoop(observe: (seconds: number) => void): () => void {
  let due = performance.now() + EVENT_LOOP_PROBE_INTERVAL_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    observe(Math.max(0, now - due) / 1000);
    due = now + EVENT_LOOP_PROBE_INTERVAL_MS;
  }, EVENT_LOOP_PROBE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
