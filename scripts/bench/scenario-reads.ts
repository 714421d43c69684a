import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '@sagaflow/testkit';
import type { BenchMonitor } from './bench-monitor.js';
import type { RunPhase } from './workload.js';
import type { RunRow, StepRow } from './verify-runs.js';

/** Waits until `count` runs of the phase exist and none is open (completed_at set); throws on timeout. */
export async function waitForTerminalRuns(monitor: BenchMonitor, phase: RunPhase, count: number, timeoutMs: number): Promise<void> {
  let last = { open: count, total: 0 };
  try {
    await waitFor(
      async () => {
        const [row] = await monitor.query<{ open: number; total: number }>(
          `select count(*) filter (where completed_at is null)::int as open, count(*)::int as total from workflow_runs where input->>'phase' = $1`,
          [phase],
        );
        last = row ?? last;
        return last.total >= count && last.open === 0;
      },
      { timeoutMs, intervalMs: 200, description: `${count} ${phase} runs to be terminal` },
    );
  } catch (error) {
    throw new Error(`${phase}: ${last.open} of ${last.total} runs still open after ${Math.round(timeoutMs / 1000)} s`, { cause: error });
  }
}

/** Postgres's PGSTAT_IDLE_INTERVAL: a backend that went idle soon after its last statistics flush holds the rest this long. */
const PGSTAT_IDLE_INTERVAL_MS = 10_000;

/**
 * Waits until the warm-up's transactions have reached pg_stat_database: a backend flushes its counters at most once a
 * second while busy and, when it goes idle within a second of a flush, only 10 s later (PGSTAT_IDLE_INTERVAL). There is
 * no way to force another backend's flush, so this waits that interval out (11 s). At the end of a scenario the
 * services exit instead, which flushes.
 */
export async function settleStatistics(): Promise<void> {
  await delay(PGSTAT_IDLE_INTERVAL_MS + 1_000);
}

/** Waits until no other connection to this database is left (the services have closed their pools, flushing their statistics). */
export async function waitForOtherBackendsGone(monitor: BenchMonitor, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    async () => {
      const [row] = await monitor.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      return row?.n === 0;
    },
    { timeoutMs, intervalMs: 100, description: 'the services to disconnect from the database' },
  );
}

export async function readRuns(monitor: BenchMonitor, phase: RunPhase): Promise<RunRow[]> {
  const rows = await monitor.query<{ id: string; status: string; created_ms: number; completed_ms: number | null }>(
    `select id, status, extract(epoch from created_at)::float8 * 1000 as created_ms, extract(epoch from completed_at)::float8 * 1000 as completed_ms
       from workflow_runs where input->>'phase' = $1`,
    [phase],
  );
  return rows.map((r) => ({ id: r.id, status: r.status, createdMs: r.created_ms, completedMs: r.completed_ms }));
}

export async function readSteps(monitor: BenchMonitor, phase: RunPhase): Promise<StepRow[]> {
  const rows = await monitor.query<{ run_id: string; step_id: string; status: string; compensation_status: string; attempts: number; compensation_attempts: number }>(
    `select s.run_id, s.step_id, s.status, s.compensation_status, s.attempts, s.compensation_attempts
       from run_steps s join workflow_runs r on r.id = s.run_id where r.input->>'phase' = $1`,
    [phase],
  );
  return rows.map((r) => ({
    runId: r.run_id,
    stepId: r.step_id,
    status: r.status,
    compensationStatus: r.compensation_status,
    attempts: r.attempts,
    compensationAttempts: r.compensation_attempts,
  }));
}

/** Step attempts (actions and compensations) recorded for the phase's runs: the "steps" of steps/s. */
export async function countAttempts(monitor: BenchMonitor, phase: RunPhase): Promise<number> {
  const [row] = await monitor.query<{ n: number }>(
    `select count(*)::int as n from step_attempts a join workflow_runs r on r.id = a.run_id where r.input->>'phase' = $1`,
    [phase],
  );
  return row?.n ?? 0;
}

/** Outbox rows left over by status (after a saga scenario: none READY, none DEAD). */
export async function countOutbox(monitor: BenchMonitor): Promise<Record<string, number>> {
  const rows = await monitor.query<{ status: string; n: number }>('select status, count(*)::int as n from outbox group by status');
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
