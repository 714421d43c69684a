import { getRun, type Db, type RunStatus, type RunView } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';

const TERMINAL: readonly RunStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED'];

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

export interface AttemptRow {
  stepIndex: number;
  kind: string;
  attemptNo: number;
  outcome: string;
}

/** Every recorded attempt of a run, in commit order. */
export async function readAttempts(db: Db, runId: string): Promise<AttemptRow[]> {
  const rows = await db
    .selectFrom('step_attempts')
    .select(['step_index', 'kind', 'attempt_no', 'outcome'])
    .where('run_id', '=', runId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ stepIndex: r.step_index, kind: r.kind, attemptNo: r.attempt_no, outcome: r.outcome }));
}

/** Polls until the run is terminal and returns it. */
export async function waitForTerminalRun(db: Db, runId: string, timeoutMs = 20_000): Promise<RunView> {
  return waitFor(
    async () => {
      const view = await getRun(db, runId);
      return view && TERMINAL.includes(view.run.status) ? view : undefined;
    },
    { timeoutMs, intervalMs: 50, description: `run ${runId} to reach a terminal status` },
  );
}

/** Counts runs per status among the given ids. */
export async function countRunsByStatus(db: Db, runIds: readonly string[]): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('workflow_runs')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('id', 'in', runIds)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
