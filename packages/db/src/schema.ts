import type {
  AttemptKind,
  AttemptOutcome,
  CompensationStatus,
  RunError,
  RunErrorCode,
  RunEventType,
  RunStatus,
  StepStatus,
} from '@sagaflow/saga';
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** The columns hold the saga core's values; re-exported for the code that reads rows. */
export type {
  AttemptKind,
  AttemptOutcome,
  CompensationStatus,
  RunError,
  RunErrorCode,
  RunEventType,
  RunStatus,
  StepStatus,
};

/**
 * Kysely types for migrations/sql/001_init.sql and 002_run_events.sql, column for column.
 * Timestamps come back from pg as Date; json columns as parsed values.
 */

export type Json = ColumnType<unknown, string, string>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type OutboxStatus = 'READY' | 'DEAD';

export interface WorkflowDefinitionsTable {
  name: string;
  version: string;
  definition: Json;
  checksum: string;
  created_at: DefaultTimestamp;
}

export interface WorkflowRunsTable {
  id: string;
  workflow_name: string;
  workflow_version: string;
  status: ColumnType<RunStatus, RunStatus | undefined, RunStatus>;
  input: Json;
  context: ColumnType<unknown, string | undefined, string>;
  error: ColumnType<RunError | null, string | null | undefined, string | null>;
  correlation_id: string;
  idempotency_key: string | null;
  request_hash: string | null;
  trace_parent: string | null;
  trace_state: string | null;
  cancel_requested_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  completed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** the run's last history seq (002_run_events.sql) */
  event_seq: ColumnType<number, number | undefined, number>;
}

export interface RunEventsTable {
  run_id: string;
  seq: number;
  at: DefaultTimestamp;
  type: RunEventType;
  step_id: string | null;
  kind: AttemptKind | null;
  attempt: number | null;
  data: ColumnType<Record<string, unknown>, string, string>;
}

export interface RunStepsTable {
  run_id: string;
  step_index: number;
  step_id: string;
  status: ColumnType<StepStatus, StepStatus | undefined, StepStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  attempts_before_retry: ColumnType<number, number | undefined, number>;
  compensation_status: CompensationStatus;
  compensation_attempts: ColumnType<number, number | undefined, number>;
  compensation_attempts_before_retry: ColumnType<number, number | undefined, number>;
  output: ColumnType<unknown, string | null | undefined, string | null>;
  error: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  compensation_error: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  started_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  compensated_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface StepAttemptsTable {
  id: Generated<string>;
  run_id: string;
  step_index: number;
  kind: AttemptKind;
  attempt_no: number;
  outcome: AttemptOutcome;
  http_status: number | null;
  error: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  started_at: Timestamp;
  finished_at: Timestamp;
}

export interface OutboxTable {
  id: Generated<string>;
  run_id: string;
  step_index: number;
  kind: AttemptKind;
  status: ColumnType<OutboxStatus, OutboxStatus | undefined, OutboxStatus>;
  due_at: DefaultTimestamp;
  lease_owner: string | null;
  lease_token: string | null;
  deliveries: ColumnType<number, number | undefined, number>;
  last_error: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  created_at: DefaultTimestamp;
}

export interface Database {
  workflow_definitions: WorkflowDefinitionsTable;
  workflow_runs: WorkflowRunsTable;
  run_steps: RunStepsTable;
  step_attempts: StepAttemptsTable;
  outbox: OutboxTable;
  run_events: RunEventsTable;
}

export type WorkflowRunRow = Selectable<WorkflowRunsTable>;
export type RunStepRow = Selectable<RunStepsTable>;
export type StepAttemptRow = Selectable<StepAttemptsTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;
export type RunStepUpdate = Updateable<RunStepsTable>;
