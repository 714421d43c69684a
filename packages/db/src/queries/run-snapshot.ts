import { sql, type Transaction } from 'kysely';
import type { RunSnapshot } from '../saga-plan.js';
import type { CompensationStatus, Database, RunError, RunStatus, StepStatus } from '../schema.js';

export type Trx = Transaction<Database>;

export interface LockedRun extends RunSnapshot {
  runId: string;
  error: RunError | null;
  workflowName: string;
  correlationId: string;
  createdAt: Date;
}

interface SnapshotRow {
  status: RunStatus;
  error: RunError | null;
  cancel_requested_at: Date | null;
  workflow_name: string;
  correlation_id: string;
  created_at: Date;
  steps: Array<[number, string, StepStatus, CompensationStatus, Record<string, unknown> | null]>;
}

const SNAPSHOT_COLUMNS = sql`r.status, r.error, r.cancel_requested_at, r.workflow_name, r.correlation_id, r.created_at,
  (select json_agg(json_build_array(s.step_index, s.step_id, s.status, s.compensation_status, s.error) order by s.step_index)
     from run_steps s where s.run_id = r.id) as steps`;

function toLockedRun(runId: string, row: SnapshotRow | undefined): LockedRun | undefined {
  if (!row) return undefined;
  return {
    runId,
    status: row.status,
    error: row.error,
    workflowName: row.workflow_name,
    correlationId: row.correlation_id,
    createdAt: row.created_at,
    cancelRequested: row.cancel_requested_at !== null,
    steps: (row.steps ?? []).map(([index, stepId, status, compensationStatus, error]) => ({
      index,
      stepId,
      status,
      compensationStatus,
      error,
    })),
  };
}

/** Locks a run row (FOR UPDATE) and reads it with its steps: the snapshot every state change decides from. */
export async function lockRunSnapshot(trx: Trx, runId: string): Promise<LockedRun | undefined> {
  const { rows } = await sql<SnapshotRow>`
    select ${SNAPSHOT_COLUMNS} from workflow_runs r where r.id = ${runId} for update of r
  `.execute(trx);
  return toLockedRun(runId, rows[0]);
}

/**
 * The fencing check and the snapshot in one statement: locks the run row and the outbox item, but only while the
 * item still carries `leaseToken`. undefined means the lease was lost (another engine owns the item now).
 */
export async function lockLeasedRunSnapshot(
  trx: Trx,
  runId: string,
  itemId: string,
  leaseToken: string,
): Promise<LockedRun | undefined> {
  const { rows } = await sql<SnapshotRow>`
    select ${SNAPSHOT_COLUMNS}
      from workflow_runs r
      join outbox o on o.id = ${itemId} and o.run_id = r.id and o.lease_token = ${leaseToken} and o.status = 'READY'
     where r.id = ${runId}
       for update of r, o
  `.execute(trx);
  return toLockedRun(runId, rows[0]);
}
