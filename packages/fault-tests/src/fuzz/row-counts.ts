import { sql } from 'kysely';
import type { Db } from '@sagaflow/db';

export interface TableState {
  /** rows per table */
  counts: Record<string, number>;
  /** md5 over every row version (ctid, xmin) of every table: any insert, update or delete changes it */
  digest: string;
}

const TABLES = ['workflow_definitions', 'workflow_runs', 'run_steps', 'step_attempts', 'outbox'] as const;

/** The state of every SagaFlow table, to show that a rejected request wrote nothing at all. */
export async function readTableState(db: Db): Promise<TableState> {
  const parts = TABLES.map(
    (table) =>
      sql`select ${table} as name, count(*)::int as n,
                 md5(coalesce(string_agg(t.ctid::text || ':' || t.xmin::text, '|' order by t.ctid), '')) as digest
            from ${sql.table(table)} t`,
  );
  const { rows } = await sql<{ name: string; n: number; digest: string }>`${sql.join(parts, sql` union all `)}`.execute(
    db,
  );
  return {
    counts: Object.fromEntries(rows.map((r) => [r.name, r.n])),
    digest: rows.map((r) => r.digest).join(''),
  };
}
