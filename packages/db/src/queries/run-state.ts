import type { RunState, StepState, StepWait } from '@sagaflow/saga';
import { sql, type Transaction } from 'kysely';
import type { Database, RunError, RunStatus } from '../schema.js';

export type Trx = Transaction<Database>;

/** run_steps columns of a RunState, as one json array per step (see stepStates) */
export type StepTuple = [
  number,
  string,
  StepState['status'],
  StepState['compensationStatus'],
  Record<string, unknown> | null,
  number,
  number,
  number,
  number,
  StepWait['for'] | null,
  string | null,
  string | null,
];

/** The steps of run `r` (alias `x`), as StepTuples in index order. */
export const STEP_TUPLES = sql`(select json_agg(json_build_array(x.step_index, x.step_id, x.status, x.compensation_status, x.error,
    x.attempts, x.attempts_before_retry, x.compensation_attempts, x.compensation_attempts_before_retry,
    x.wait_for, x.wait_until, x.wait_signal) order by x.step_index)
  from run_steps x where x.run_id = r.id)`;

export function stepStates(tuples: StepTuple[] | null): StepState[] {
  return (tuples ?? []).map(
    ([
      index,
      stepId,
      status,
      compensationStatus,
      error,
      attempts,
      attemptsBeforeRetry,
      compensationAttempts,
      compensationAttemptsBeforeRetry,
      waitFor,
      waitUntil,
      waitSignal,
    ]) => ({
      index,
      stepId,
      status,
      compensationStatus,
      error,
      attempts,
      attemptsBeforeRetry,
      compensationAttempts,
      compensationAttemptsBeforeRetry,
      wait: waitFor && waitUntil ? { for: waitFor, until: new Date(waitUntil), signal: waitSignal } : null,
    }),
  );
}

interface StateRow {
  status: RunStatus;
  error: RunError | null;
  cancel_requested_at: Date | null;
  paused: boolean;
  workflow_paused: boolean;
  event_seq: number;
  workflow_name: string;
  correlation_id: string;
  created_at: Date;
  steps: StepTuple[] | null;
}

/** The run's own pause flag and its workflow's (docs/contract.md#pause), of run `r`. */
export const PAUSED_COLUMNS = sql`r.paused_at is not null as paused,
  exists (select 1 from workflow_pauses p where p.workflow_name = r.workflow_name) as workflow_paused`;

const STATE_COLUMNS = sql`r.status, r.error, r.cancel_requested_at, r.event_seq, r.workflow_name, r.correlation_id, r.created_at,
  ${PAUSED_COLUMNS}, ${STEP_TUPLES} as steps`;

function toRunState(runId: string, row: StateRow | undefined): RunState | undefined {
  if (!row) return undefined;
  return {
    runId,
    status: row.status,
    error: row.error,
    workflowName: row.workflow_name,
    correlationId: row.correlation_id,
    createdAt: row.created_at,
    cancelRequested: row.cancel_requested_at !== null,
    paused: row.paused,
    workflowPaused: row.workflow_paused,
    eventSeq: row.event_seq,
    steps: stepStates(row.steps),
  };
}

/** Locks a run row (FOR UPDATE) and reads it with its steps: the state every locked change is planned from. */
export async function lockRunState(trx: Trx, runId: string): Promise<RunState | undefined> {
  const { rows } = await sql<StateRow>`
    select ${STATE_COLUMNS} from workflow_runs r where r.id = ${runId} for update of r
  `.execute(trx);
  return toRunState(runId, rows[0]);
}

/**
 * Locks several runs (FOR UPDATE, in run id order: the order every writer locks runs in) and reads their states in one
 * statement: the set-based form of lockRunState, for a bulk operation's batch. Runs that do not exist are absent.
 */
export async function lockRunStates(trx: Trx, runIds: readonly string[]): Promise<Map<string, RunState>> {
  const { rows } = await sql<StateRow & { id: string }>`
    select r.id, ${STATE_COLUMNS} from workflow_runs r where r.id = any(${[...runIds]}::uuid[]) order by r.id for update of r
  `.execute(trx);
  const states = new Map<string, RunState>();
  for (const row of rows) states.set(row.id, toRunState(row.id, row)!);
  return states;
}

/**
 * The fencing check and the state in one statement: locks the run row and the outbox item, but only while the
 * item still carries `leaseToken`. undefined means the lease was lost (another engine owns the item now).
 */
export async function lockLeasedRunState(
  trx: Trx,
  runId: string,
  itemId: string,
  leaseToken: string,
): Promise<RunState | undefined> {
  const { rows } = await sql<StateRow>`
    select ${STATE_COLUMNS}
      from workflow_runs r
      join outbox o on o.id = ${itemId} and o.run_id = r.id and o.lease_token = ${leaseToken} and o.status = 'READY'
     where r.id = ${runId}
       for update of r, o
  `.execute(trx);
  return toRunState(runId, rows[0]);
}
