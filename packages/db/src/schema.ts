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
import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type * as Db from './schema.generated.js';

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
 * Kysely types of the tables: the columns, their nullability and defaults come from schema.generated.ts, which
 * `pnpm db:codegen` writes from a migrated database (scripts/check-generated.sh fails when it is stale). This file
 * only narrows what Postgres cannot say: the values a CHECK allows in a text column, and what a json column holds
 * (written as JSON text, read back parsed). Timestamps come back from pg as Date.
 */

export type Json = JsonColumn<unknown>;

export type OutboxStatus = 'READY' | 'DEAD';

/** The generated table `T` with the columns named in `O` narrowed; `O` may only name columns `T` has. */
type Narrow<T, O extends { [K in keyof O]: K extends keyof T ? unknown : never }> = Omit<T, keyof O> & O;

type JsonColumn<T> = ColumnType<T, string, string>;
type NullableJsonColumn<T> = ColumnType<T | null, string | null | undefined, string | null>;
type DefaultedColumn<T> = ColumnType<T, T | undefined, T>;

export type WorkflowDefinitionsTable = Narrow<Db.WorkflowDefinitions, { definition: Json }>;

export type WorkflowRunsTable = Narrow<
  Db.WorkflowRuns,
  {
    status: DefaultedColumn<RunStatus>;
    input: Json;
    context: ColumnType<unknown, string | undefined, string>;
    error: NullableJsonColumn<RunError>;
  }
>;

export type RunEventsTable = Narrow<
  Db.RunEvents,
  {
    type: RunEventType;
    kind: AttemptKind | null;
    data: JsonColumn<Record<string, unknown>>;
  }
>;

export type RunStepsTable = Narrow<
  Db.RunSteps,
  {
    status: DefaultedColumn<StepStatus>;
    compensation_status: CompensationStatus;
    output: NullableJsonColumn<unknown>;
    error: NullableJsonColumn<Record<string, unknown>>;
    compensation_error: NullableJsonColumn<Record<string, unknown>>;
    wait_for: 'sleep' | 'signal' | null;
  }
>;

export type RunSignalsTable = Narrow<
  Db.RunSignals,
  {
    seq: ColumnType<string, never, never>;
    payload: NullableJsonColumn<unknown>;
  }
>;

export type StepAttemptsTable = Narrow<
  Db.StepAttempts,
  {
    id: ColumnType<string, string | undefined, string>;
    kind: AttemptKind;
    outcome: AttemptOutcome;
    error: NullableJsonColumn<Record<string, unknown>>;
  }
>;

export type OutboxTable = Narrow<
  Db.Outbox,
  {
    id: ColumnType<string, string | undefined, string>;
    kind: AttemptKind;
    status: DefaultedColumn<OutboxStatus>;
    last_error: NullableJsonColumn<Record<string, unknown>>;
  }
>;

export type OperationAction = 'cancel' | 'redrive' | 'pause' | 'resume';
export type OperationStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLED';
export type OperationRunState = 'PENDING' | 'SUCCEEDED' | 'SKIPPED' | 'FAILED';

export type OperationsTable = Narrow<
  Db.Operations,
  {
    action: OperationAction;
    status: DefaultedColumn<OperationStatus>;
    filter: JsonColumn<Record<string, unknown>>;
  }
>;

export type OperationRunsTable = Narrow<Db.OperationRuns, { state: DefaultedColumn<OperationRunState> }>;

/** The live engines a start may hand its first step to (nothing to narrow). */
export type EnginesTable = Db.Engines;

/** The API instances with requests waiting for run history (nothing to narrow). */
export type EventListenersTable = Db.EventListeners;

export type ScheduleOverlap = 'skip' | 'allow';

export type SchedulesTable = Narrow<
  Db.Schedules,
  {
    input: JsonColumn<Record<string, unknown>>;
    context: ColumnType<Record<string, unknown>, string | undefined, string>;
    overlap: DefaultedColumn<ScheduleOverlap>;
  }
>;

/** Every generated table, each narrowed above: a table added by a migration fails here until it is listed. */
export type Database = { [T in keyof Db.DB]: TableTypes[T] };

interface TableTypes {
  workflow_definitions: WorkflowDefinitionsTable;
  workflow_runs: WorkflowRunsTable;
  run_steps: RunStepsTable;
  step_attempts: StepAttemptsTable;
  outbox: OutboxTable;
  run_events: RunEventsTable;
  engines: EnginesTable;
  event_listeners: EventListenersTable;
  run_signals: RunSignalsTable;
  operations: OperationsTable;
  operation_runs: OperationRunsTable;
  workflow_pauses: Db.WorkflowPauses;
  schedules: SchedulesTable;
}

export type WorkflowRunRow = Selectable<WorkflowRunsTable>;
export type RunStepRow = Selectable<RunStepsTable>;
export type StepAttemptRow = Selectable<StepAttemptsTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;
export type RunStepUpdate = Updateable<RunStepsTable>;
export type ScheduleRow = Selectable<SchedulesTable>;
