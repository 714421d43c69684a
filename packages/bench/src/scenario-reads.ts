import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '@sagaflow/testkit';
import type { BenchMonitor } from './bench-monitor.js';
import { SLEEP_WORKFLOW_NAME } from './fill-sleeping.js';
import type { RunPhase } from './workload.js';
import type { RunRow, StepRow } from './verify-runs.js';

/**
 * Waits until every run of `runIds` (the phase's runs, as the API answered them) exists and none is open
 * (completed_at set); throws on timeout. Looked up by id (primary key): a database filled with --history makes no
 * difference to this poll, which runs during the measurement.
 */
export async function waitForTerminalRuns(
  monitor: BenchMonitor,
  phase: RunPhase,
  runIds: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const count = runIds.length;
  let last = { open: count, total: 0 };
  try {
    await waitFor(
      async () => {
        const [row] = await monitor.query<{ open: number; total: number }>(
          `select count(*) filter (where completed_at is null)::int as open, count(*)::int as total from workflow_runs where id = any($1::uuid[])`,
          [runIds],
        );
        last = row ?? last;
        return last.total >= count && last.open === 0;
      },
      { timeoutMs, intervalMs: 200, description: `${count} ${phase} runs to be terminal` },
    );
  } catch (error) {
    throw new Error(`${phase}: ${last.open} of ${last.total} runs still open after ${Math.round(timeoutMs / 1000)} s`, {
      cause: error,
    });
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
      const [row] = await monitor.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
      );
      return row?.n === 0;
    },
    { timeoutMs, intervalMs: 100, description: 'the services to disconnect from the database' },
  );
}

/** Every run of the phase (its start body says so; --history runs say "history"). */
export async function readRuns(monitor: BenchMonitor, phase: RunPhase): Promise<RunRow[]> {
  const rows = await monitor.query<{ id: string; status: string; created_ms: number; completed_ms: number | null }>(
    `select id, status, extract(epoch from created_at)::float8 * 1000 as created_ms, extract(epoch from completed_at)::float8 * 1000 as completed_ms
       from workflow_runs where input->>'phase' = $1`,
    [phase],
  );
  return rows.map((r) => ({ id: r.id, status: r.status, createdMs: r.created_ms, completedMs: r.completed_ms }));
}

/** The steps of these runs (readRuns' ids: by key, whatever history the database holds). */
export async function readSteps(monitor: BenchMonitor, runIds: readonly string[]): Promise<StepRow[]> {
  const rows = await monitor.query<{
    run_id: string;
    step_id: string;
    status: string;
    compensation_status: string;
    attempts: number;
    compensation_attempts: number;
  }>(
    `select s.run_id, s.step_id, s.status, s.compensation_status, s.attempts, s.compensation_attempts
       from run_steps s where s.run_id = any($1::uuid[])`,
    [runIds],
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

/** Step attempts (actions and compensations) recorded for these runs (readRuns' ids): the "steps" of steps/s. */
export async function countAttempts(monitor: BenchMonitor, runIds: readonly string[]): Promise<number> {
  const [row] = await monitor.query<{ n: number }>(
    'select count(*)::int as n from step_attempts a where a.run_id = any($1::uuid[])',
    [runIds],
  );
  return row?.n ?? 0;
}

/** Outbox rows left over by status (after a saga scenario: none READY, none DEAD). */
export async function countOutbox(monitor: BenchMonitor): Promise<Record<string, number>> {
  // the --sleeping runs keep their items (due in a year) by design
  const rows = await monitor.query<{ status: string; n: number }>(
    `select o.status, count(*)::int as n from outbox o join workflow_runs r on r.id = o.run_id
      where r.workflow_name <> $1 group by o.status`,
    [SLEEP_WORKFLOW_NAME],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Median time of each phase of a step, in ms (see readStepPhases). */
export interface StepPhases {
  stepIndex: number;
  /** previous step's completion transaction began (the run's start for step 0) → this step claimed */
  waitMs: number;
  /** claimed → request sent (engine side) */
  prepareMs: number;
  /** request sent → response read */
  httpMs: number;
  /** response read → completion transaction began */
  toCompletionMs: number;
}

/**
 * Where a completed run's time goes, step by step, from the rows alone: Postgres timestamps are transaction starts
 * (created_at, run_steps.started_at by the claim, finished_at by the completion), attempt times are the engine's
 * clock in ms. Medians over the completed ones of these runs (readRuns' ids).
 */
export async function readStepPhases(monitor: BenchMonitor, runIds: readonly string[]): Promise<StepPhases[]> {
  const ms = (expression: string): string =>
    `(percentile_cont(0.5) within group (order by extract(epoch from ${expression})) * 1000)::float8`;
  const rows = await monitor.query<{
    step_index: number;
    wait_ms: number;
    prepare_ms: number;
    http_ms: number;
    to_completion_ms: number;
  }>(
    `select s.step_index,
            ${ms('s.started_at - coalesce(p.finished_at, r.created_at)')} as wait_ms,
            ${ms('a.started_at - s.started_at')} as prepare_ms,
            ${ms('a.finished_at - a.started_at')} as http_ms,
            ${ms('s.finished_at - a.finished_at')} as to_completion_ms
       from run_steps s
       join workflow_runs r on r.id = s.run_id
       join step_attempts a on a.run_id = s.run_id and a.step_index = s.step_index and a.kind = 'action' and a.attempt_no = 1
       left join run_steps p on p.run_id = s.run_id and p.step_index = s.step_index - 1
      where s.run_id = any($1::uuid[]) and r.status = 'COMPLETED'
      group by s.step_index order by s.step_index`,
    [runIds],
  );
  const round = (n: number): number => Math.round(n * 100) / 100;
  return rows.map((r) => ({
    stepIndex: r.step_index,
    waitMs: round(r.wait_ms),
    prepareMs: round(r.prepare_ms),
    httpMs: round(r.http_ms),
    toCompletionMs: round(r.to_completion_ms),
  }));
}
