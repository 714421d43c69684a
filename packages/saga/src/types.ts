/** The saga's states and values (docs/contract.md#run-lifecycle). The database columns hold exactly these (migrations/sql/001_init.sql). */

export type RunStatus =
  'PENDING' | 'RUNNING' | 'COMPENSATING' | 'CANCELLING' | 'COMPLETED' | 'COMPENSATED' | 'FAILED' | 'CANCELLED';
export type StepStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
export type CompensationStatus = 'NONE' | 'PENDING' | 'RUNNING' | 'COMPENSATED' | 'FAILED';
export type AttemptKind = 'action' | 'compensation';
export type AttemptOutcome = 'SUCCEEDED' | 'RETRYABLE' | 'FAILED';
export type RunErrorCode =
  'STEP_FAILED' | 'COMPENSATION_FAILED' | 'CANCELLED' | 'DELIVERY_EXHAUSTED' | 'TEMPLATE_ERROR';

/** The history's event types (docs/contract.md#run-history). */
export type RunEventType =
  | 'RUN_CREATED'
  | 'RUN_STATUS_CHANGED'
  | 'ATTEMPT_FINISHED'
  | 'DELIVERY_PARKED'
  | 'CANCEL_REQUESTED'
  | 'OPERATOR_ACTION'
  | 'STEP_WAITING'
  | 'SIGNAL_RECEIVED'
  | 'STEP_WOKEN';

/** One entry of a run's history, as the API serves it. */
export interface RunEvent {
  seq: number;
  /** ISO 8601 */
  at: string;
  type: RunEventType;
  stepId: string | null;
  kind: AttemptKind | null;
  attempt: number | null;
  data: Record<string, unknown>;
}

export interface RunError {
  code: RunErrorCode;
  message: string;
  stepId?: string;
}

/** What a waiting step waits for (docs/contract.md#durable-waits): its item is due at `until`. */
export interface StepWait {
  for: 'sleep' | 'signal';
  /** the wake-up (sleep) or the timeout (signal) */
  until: Date;
  /** the signal's name (signal), else null */
  signal: string | null;
}

/** A step as the writer knows it: every column a state change decides from or writes absolutely. */
export interface StepState {
  index: number;
  stepId: string;
  status: StepStatus;
  compensationStatus: CompensationStatus;
  error: Record<string, unknown> | null;
  attempts: number;
  /** attempts made before the last operator retry of the action: the budget counts from here */
  attemptsBeforeRetry: number;
  compensationAttempts: number;
  compensationAttemptsBeforeRetry: number;
  /** set while a sleep or waitForSignal step waits (the step is RUNNING); null otherwise */
  wait: StepWait | null;
}

/**
 * A run and its steps: what every state change is planned from, and what the writer says it leaves (`after`).
 * The one run type of the core: read from the rows (under lock, or by the claim) or computed by `rowWrites`.
 */
export interface RunState {
  runId: string;
  status: RunStatus;
  error: RunError | null;
  cancelRequested: boolean;
  /** the run's own pause flag (workflow_runs.paused_at; docs/contract.md#pause) */
  paused: boolean;
  /** the run's workflow is paused (workflow_pauses): like `paused`, nothing of the run is dispatched */
  workflowPaused: boolean;
  /** the seq of the run's last history event (0: none) */
  eventSeq: number;
  workflowName: string;
  correlationId: string;
  createdAt: Date;
  steps: StepState[];
}

/** An attempt's record (a step_attempts row). */
export interface AttemptRecord {
  attemptNo: number;
  outcome: AttemptOutcome;
  httpStatus: number | null;
  error: Record<string, unknown> | null;
  startedAt: Date;
  finishedAt: Date;
}
