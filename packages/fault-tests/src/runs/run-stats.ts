import { sql } from 'kysely';
import type { Db } from '@sagaflow/db';

/** Terminal runs per `error.code` ('none' for runs without an error). */
export async function countRunsByErrorCode(db: Db): Promise<Record<string, number>> {
  const { rows } = await sql<{ code: string; n: number }>`
    select coalesce(error ->> 'code', 'none') as code, count(*)::int as n from workflow_runs group by 1
  `.execute(db);
  return Object.fromEntries(rows.map((r) => [r.code, r.n]));
}
