import { sql } from 'kysely';
import type { Db } from '../pool.js';

export interface OutboxStats {
  /** items due now and not leased */
  backlog: number;
  /** seconds the oldest due item has been waiting */
  lagSeconds: number;
  /** runs not yet terminal */
  activeRuns: number;
}

/** The database-wide gauges, read with index-only friendly queries (outbox_claim, workflow_runs_active). */
export async function readOutboxStats(db: Db): Promise<OutboxStats> {
  const { rows } = await sql<{ backlog: number; lag: number | null; active: number }>`
    select (select count(*)::int from outbox where status = 'READY' and due_at <= now()) as backlog,
           (select extract(epoch from now() - min(due_at))::float8 from outbox where status = 'READY' and due_at <= now()) as lag,
           (select count(*)::int from workflow_runs where completed_at is null) as active
  `.execute(db);
  const row = rows[0];
  return { backlog: row?.backlog ?? 0, lagSeconds: row?.lag ?? 0, activeRuns: row?.active ?? 0 };
}
