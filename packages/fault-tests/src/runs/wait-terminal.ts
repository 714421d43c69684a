import { sql } from 'kysely';
import type { Db } from '@sagaflow/db';

export interface DrainResult {
  /** ms from `since` until no run was active (or until giving up) */
  elapsedMs: number;
  /** runs still not terminal when the wait ended (0 on success) */
  active: number;
  total: number;
}

/** Counts runs and those not yet terminal (completed_at is set exactly when a run is terminal). */
export async function countActiveRuns(db: Db): Promise<{ total: number; active: number }> {
  const { rows } = await sql<{ total: number; active: number }>`
    select count(*)::int as total, (count(*) filter (where completed_at is null))::int as active from workflow_runs
  `.execute(db);
  return rows[0] ?? { total: 0, active: 0 };
}

/**
 * Bounded poll until every run in the database is terminal. Never throws on timeout: the runs left over are
 * reported, and the invariant checker names each of them.
 */
export async function waitUntilAllTerminal(
  db: Db,
  options: { since: number; timeoutMs: number; expectedRuns?: number },
): Promise<DrainResult> {
  const deadline = Date.now() + options.timeoutMs;
  let last = { total: 0, active: -1 };
  for (;;) {
    try {
      last = await countActiveRuns(db);
      const enough = options.expectedRuns === undefined || last.total >= options.expectedRuns;
      if (last.active === 0 && enough) return { elapsedMs: Date.now() - options.since, ...last };
    } catch {
      // the database may be restarting: keep polling
    }
    if (Date.now() >= deadline) return { elapsedMs: Date.now() - options.since, ...last };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
