import { getRun, type Db, type RunView } from '@sagaflow/db';
import { TERMINAL_RUN_STATUSES } from '@sagaflow/saga';
import { waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';

/** One outbox row of a run, as a test reads it. */
export interface OutboxRow {
  id: string;
  stepIndex: number;
  kind: string;
  status: string;
  leaseOwner: string | null;
  leaseToken: string | null;
  deliveries: number;
  /** milliseconds from now until due_at (negative: due) */
  dueInMs: number;
  lastError: Record<string, unknown> | null;
}

/** The run's outbox rows (READY and DEAD), oldest first. */
export async function readOutboxRows(db: Db, runId: string): Promise<OutboxRow[]> {
  const { rows } = await sql<{
    id: string;
    step_index: number;
    kind: string;
    status: string;
    lease_owner: string | null;
    lease_token: string | null;
    deliveries: number;
    due_in_ms: number;
    last_error: Record<string, unknown> | null;
  }>`
    select id::text, step_index, kind, status, lease_owner, lease_token::text, deliveries,
           (extract(epoch from (due_at - now())) * 1000)::float8 as due_in_ms, last_error
      from outbox where run_id = ${runId} order by id
  `.execute(db);
  return rows.map((r) => ({
    id: r.id,
    stepIndex: r.step_index,
    kind: r.kind,
    status: r.status,
    leaseOwner: r.lease_owner,
    leaseToken: r.lease_token,
    deliveries: r.deliveries,
    dueInMs: r.due_in_ms,
    lastError: r.last_error,
  }));
}

/** The run's single live (READY) outbox item; throws when there is none. */
export async function readLiveItem(db: Db, runId: string): Promise<OutboxRow> {
  const live = (await readOutboxRows(db, runId)).filter((r) => r.status === 'READY');
  if (live.length !== 1) throw new Error(`run ${runId} has ${live.length} live outbox items`);
  return live[0]!;
}

/** Every recorded attempt of a run, in commit order: [stepIndex, kind, attemptNo, outcome]. */
export async function readAttempts(db: Db, runId: string): Promise<Array<[number, string, number, string]>> {
  const rows = await db
    .selectFrom('step_attempts')
    .select(['step_index', 'kind', 'attempt_no', 'outcome'])
    .where('run_id', '=', runId)
    .orderBy('id')
    .execute();
  return rows.map((r) => [r.step_index, r.kind, r.attempt_no, r.outcome]);
}

/** Polls until one run is terminal and returns it. */
export function waitForTerminalRun(db: Db, runId: string, timeoutMs = 30_000): Promise<RunView> {
  return waitFor(
    async () => {
      const view = await getRun(db, runId);
      return view && TERMINAL_RUN_STATUSES.includes(view.run.status) ? view : undefined;
    },
    { timeoutMs, intervalMs: 50, description: `run ${runId} to reach a terminal status` },
  );
}
