// @sagaflow/observability/database-gauges, used by the metrics of services/api and services/engine (its own entry: it loads pg).
import { readOutboxStats, type Db, type OutboxStats } from '@sagaflow/db';
import { Gauge, type Registry } from 'prom-client';

/**
 * `outbox_backlog_total`, `outbox_lag_seconds`, `workflow_active_runs`, `outbox_dead_total{kind}`, `runs_waiting{waitFor}`: read from Postgres
 * when scraped (one query for all), so every API and engine instance reports the same numbers. While Postgres cannot answer they read NaN
 * (not a stale or zero value) and the rest of the scrape still works.
 */
export function registerDatabaseGauges(registry: Registry, db: Db): void {
  let stats: Promise<OutboxStats | undefined> | undefined;
  const readStats = () =>
    (stats ??= readOutboxStats(db)
      .catch(() => undefined)
      .finally(() => setTimeout(() => (stats = undefined), 50).unref()));
  const gauge = (name: string, help: string, pick: (s: OutboxStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const current = await readStats();
        this.set(current ? pick(current) : Number.NaN);
      },
    });
  gauge('outbox_backlog_total', 'Outbox items due now and not leased (work waiting for an engine)', (s) => s.backlog);
  gauge('outbox_lag_seconds', 'How long the oldest due outbox item has been waiting, in seconds', (s) => s.lagSeconds);
  gauge('workflow_active_runs', 'Runs not yet in a terminal state', (s) => s.activeRuns);
  new Gauge({
    name: 'outbox_dead_total',
    help: 'Outbox items parked as DEAD (delivery bound reached, or a compensation that gave up): each needs an operator',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const current = await readStats();
      for (const kind of ['action', 'compensation'] as const)
        this.set({ kind }, current ? current.dead[kind] : Number.NaN);
    },
  });
  new Gauge({
    name: 'runs_waiting',
    help: 'Runs whose current step waits: a sleep (waitFor="sleep") or a signal (waitFor="signal"); they hold no engine slot',
    labelNames: ['waitFor'],
    registers: [registry],
    async collect() {
      const current = await readStats();
      for (const waitFor of ['sleep', 'signal'] as const)
        this.set({ waitFor }, current ? current.waiting[waitFor] : Number.NaN);
    },
  });
}
