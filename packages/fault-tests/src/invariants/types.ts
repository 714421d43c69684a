import type { AttemptKind, AttemptOutcome, CompensationStatus, RunError, RunStatus, StepStatus } from '@sagaflow/db';

/** The database's view of the runs a scenario produced, as plain values (see load-snapshot.ts). */
export interface RunRecord {
  id: string;
  status: RunStatus;
  error: RunError | null;
  cancelRequested: boolean;
  /** the run's pause flag (docs/contract.md#pause); absent: not checked (hand-made snapshots) */
  paused?: boolean;
  /** epoch ms, null while not terminal */
  completedAt: number | null;
}

export interface StepRecord {
  runId: string;
  index: number;
  stepId: string;
  status: StepStatus;
  attempts: number;
  compensationStatus: CompensationStatus;
  compensationAttempts: number;
  output: unknown;
  /** the step's error (absent in hand-made snapshots) */
  error?: Record<string, unknown> | null;
  /** a sleep or waitForSignal step that began to wait (its history has STEP_WAITING): it sends no request */
  waited?: boolean;
}

/** A run_signals row (docs/contract.md#durable-waits). */
export interface SignalRecord {
  id: string;
  runId: string;
  name: string;
  /** the step that consumed it, null while unconsumed */
  consumedBy: string | null;
}

export interface AttemptRecord {
  /** step_attempts.id: commit order */
  id: number;
  runId: string;
  stepIndex: number;
  kind: AttemptKind;
  attemptNo: number;
  outcome: AttemptOutcome;
  httpStatus: number | null;
  error: Record<string, unknown> | null;
}

export interface OutboxRecord {
  runId: string;
  stepIndex: number;
  kind: AttemptKind;
  status: 'READY' | 'DEAD';
  lastError: Record<string, unknown> | null;
}

/** A run_events row (docs/contract.md#run-history). */
export interface EventRecord {
  runId: string;
  seq: number;
  type: string;
  stepId: string | null;
  kind: AttemptKind | null;
  attempt: number | null;
  data: Record<string, unknown>;
}

export interface Snapshot {
  runs: RunRecord[];
  steps: StepRecord[];
  attempts: AttemptRecord[];
  outbox: OutboxRecord[];
  /** the runs' history; absent: not checked (hand-made snapshots) */
  events?: EventRecord[];
  /** the runs' signal mailboxes; absent: not checked */
  signals?: SignalRecord[];
}

/** One request the downstream received (the fields the checker reads). */
export interface RequestRecord {
  seq: number;
  key: string;
  attempt: number | undefined;
  arrivedAt: number;
  /** answered from the dedup store: the effect was not applied again */
  replayed: boolean;
  /** this request applied its key's effect */
  appliedEffect: boolean;
  /** what the request said it was, from X-SagaFlow-Run-Id, X-SagaFlow-Step-Id and the envelope's kind */
  identity?: { runId: string; stepId: string; kind: string };
  /** the client went away before an answer */
  abandoned: boolean;
}

/** The one effect a deduplicating downstream applied for a key, and the answer it stored. */
export interface EffectRecord {
  body: unknown;
}

/** A broken invariant, naming the run that broke it ('*' for a scenario-wide bound). */
export interface Violation {
  runId: string;
  invariant: string;
  detail: string;
}

export interface InvariantReport {
  runs: number;
  byStatus: Record<string, number>;
  /** runs the clients were promised (202) that are missing or not terminal */
  lostRuns: number;
  requests: number;
  attempts: number;
  effects: number;
  /** requests beyond one per recorded attempt: resent after a crash or a lost lease */
  redeliveries: number;
  /** requests whose attempt was never recorded (their item was parked as DELIVERY_EXHAUSTED) */
  unrecorded: number;
  /** requests answered from the dedup store instead of applying the effect again */
  duplicatesPrevented: number;
  /** requests whose client went away before the answer (killed engines, timeouts) */
  abandoned: number;
  /** steps or compensations (by run, step and kind, not by key) whose effect was applied more than once */
  duplicateEffects: number;
  violations: Violation[];
}
