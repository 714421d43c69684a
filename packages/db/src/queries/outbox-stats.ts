import { sql } from 'kysely';
import type { Db } from '../pool.js';
import type { AttemptKind } from '../schema.js';

export interface OutboxStats {
  /** items due now and not leased */
  backlog: number;
  /** seconds the oldest due item has been waiting */
  lagSeconds: number;
  /** runs not yet terminal */
  activeRuns: number;
  /** items parked as DEAD (they need an operator), by kind */
  dead: Record<AttemptKind, number>;
  /** runs whose current step waits (docs/contract.md#durable-waits), by what it waits for */
  waiting: { sleep: number; signal: number };
}

/**
 * The database-wide gauges, read with index-only friendly queries (outbox_claim, workflow_runs_active, run_steps_waiting). Dead items are
 * counted by a scan of the outbox, which holds one row per run in flight plus the parked ones: small.
 */
export async function readOutboxStats(db: Db): Promise<OutboxStats> {
  const { rows } = await sql<{
    backlog: number;
    lag: number | null;
    active: number;
    dead_actions: number;
    dead_compensations: number;
    waiting_sleep: number;
    waiting_signal: number;
  }>`
    select (select count(*)::int from outbox where status = 'READY' and due_at <= now()) as backlog,
           (select extract(epoch from now() - min(due_at))::float8 from outbox where status = 'READY' and due_at <= now()) as lag,
           (select count(*)::int from workflow_runs where completed_at is null) as active,
           dead.actions as dead_actions, dead.compensations as dead_compensations,
           waiting.sleep as waiting_sleep, waiting.signal as waiting_signal
      from (select (count(*) filter (where kind = 'action'))::int as actions,
                   (count(*) filter (where kind = 'compensation'))::int as compensations
              from outbox where status = 'DEAD') as dead,
           -- run_steps_waiting: only the steps that wait
           (select (count(*) filter (where wait_for = 'sleep'))::int as sleep,
                   (count(*) filter (where wait_for = 'signal'))::int as signal
              from run_steps where wait_for is not null) as waiting
  `.execute(db);
  const row = rows[0];
  return {
    backlog: row?.backlog ?? 0,
    lagSeconds: row?.lag ?? 0,
    activeRuns: row?.active ?? 0,
    dead: { action: row?.dead_actions ?? 0, compensation: row?.dead_compensations ?? 0 },
    waiting: { sleep: row?.waiting_sleep ?? 0, signal: row?.waiting_signal ?? 0 },
  };
}
