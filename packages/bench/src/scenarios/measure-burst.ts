import type { BenchMonitor } from '../bench-monitor.js';
import type { JsonClient } from '../http-client.js';
import { countAttempts, waitForTerminalRuns } from '../scenario-reads.js';
import { submitClosedLoop, type SubmittedRun } from '../submit-runs.js';

/** Clients starting runs in a burst of the budget scenarios (as `burst`). */
export const BURST_IN_FLIGHT = 16;
const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

export interface BurstFigures {
  runs: number;
  runIds: string[];
  attempts: number;
  windowMs: number;
  stepsPerSecond: number;
  firstCreatedMs: number;
  lastCompletedMs: number;
  /**
   * transaction ids Postgres assigned while the burst ran, per step attempt: the write transactions (commits that
   * flush WAL) of the whole server, read-only ones excluded; the bench's own reads assign none
   */
  writeTransactionsPerStep: number;
}

/** The next transaction id Postgres will assign (reading it assigns none). */
async function nextTransactionId(monitor: BenchMonitor): Promise<number> {
  const [row] = await monitor.query<{ xid: string }>('select pg_snapshot_xmax(pg_current_snapshot())::text as xid');
  return Number(row?.xid);
}

/** A closed-loop burst of the bench saga; steps/s = step attempts / (first created → last completed). */
export async function measureBurst(
  client: JsonClient,
  monitor: BenchMonitor,
  runs: number,
  timeoutMs: number,
): Promise<BurstFigures> {
  const xidBefore = await nextTransactionId(monitor);
  const submitted: SubmittedRun[] = await submitClosedLoop(client, 'measure', runs, BURST_IN_FLIGHT);
  const ids = submitted.map((s) => s.runId);
  await waitForTerminalRuns(monitor, 'measure', ids, timeoutMs);
  const xidAfter = await nextTransactionId(monitor);
  const [row] = await monitor.query<{ first: string; last: string }>(
    `select (extract(epoch from min(created_at)) * 1000)::float8 as first,
            (extract(epoch from max(completed_at)) * 1000)::float8 as last
       from workflow_runs where id = any($1::uuid[])`,
    [ids],
  );
  const attempts = await countAttempts(monitor, ids);
  const firstCreatedMs = Number(row?.first);
  const lastCompletedMs = Number(row?.last);
  const windowMs = lastCompletedMs - firstCreatedMs;
  return {
    runs,
    runIds: ids,
    attempts,
    windowMs: round(windowMs),
    stepsPerSecond: round((attempts / windowMs) * 1000),
    firstCreatedMs,
    lastCompletedMs,
    writeTransactionsPerStep: round((xidAfter - xidBefore) / attempts, 3),
  };
}

/** `warmup` runs started in a closed loop and waited for (V8 has optimised the hot paths by then). */
export async function warmUp(client: JsonClient, monitor: BenchMonitor, warmup: number): Promise<void> {
  if (warmup <= 0) return;
  const started = await submitClosedLoop(client, 'warmup', warmup, BURST_IN_FLIGHT);
  await waitForTerminalRuns(
    monitor,
    'warmup',
    started.map((s) => s.runId),
    60_000,
  );
}
