import type { AttemptResult, Plan, StepChange } from './plan.js';
import {
  assertCompensationTransition,
  assertRunTransition,
  assertStepTransition,
  TERMINAL_RUN_STATUSES,
} from './state-machine.js';
import type {
  AttemptKind,
  AttemptRecord,
  RunError,
  RunEventType,
  RunState,
  RunStatus,
  StepState,
  StepWait,
} from './types.js';

/**
 * The one writer's pure half: a plan, applied to the run state it was planned from, becomes explicit row writes (every
 * written column has its new value) plus the state they leave. packages/db applies any batch of these in one statement
 * (applyRowWrites); nothing else writes run_steps, workflow_runs, step_attempts or outbox rows of a run in flight.
 */

/** What the statement checks before writing anything of a run: the state was planned from still holds. */
export interface WriteGuard {
  runId: string;
  status: RunStatus;
  cancelRequested: boolean;
  /** the run's own pause flag and its workflow's, as planned from (a pause meanwhile changes where the next item goes) */
  paused: boolean;
  workflowPaused: boolean;
  /** the run's last history seq: nothing was appended since the state was read */
  eventSeq: number;
  /** the item acted on must still carry this lease (fencing); null: no lease to check (the run row is locked) */
  itemId: string | null;
  leaseToken: string | null;
  /** a signal these writes consume must still be unconsumed (a signal is consumed at most once) */
  unconsumedSignal: string | null;
}

export interface RunWrite {
  runId: string;
  status: RunStatus;
  error: RunError | null;
  /** the status, error or cancel flag changes: updated_at = now(), completed_at = now() when terminal, else null */
  changed: boolean;
  terminal: boolean;
  /** cancel_requested_at = now() */
  cancel: boolean;
  /** paused_at = now() ('now'), null ('clear': resumed, cancelled or terminal), or unchanged ('keep') */
  pausedAt: 'now' | 'clear' | 'keep';
  /** the run's last history seq after these writes */
  eventSeq: number;
}

/** A run_events row (its `at` is the database's clock when the statement writes it). */
export interface EventWrite {
  runId: string;
  seq: number;
  type: RunEventType;
  stepId: string | null;
  kind: AttemptKind | null;
  attempt: number | null;
  data: Record<string, unknown>;
}

export interface StepWrite {
  runId: string;
  stepIndex: number;
  // written as given
  status: StepState['status'];
  compensationStatus: StepState['compensationStatus'];
  attempts: number;
  attemptsBeforeRetry: number;
  compensationAttempts: number;
  compensationAttemptsBeforeRetry: number;
  error: Record<string, unknown> | null;
  /** wait_for, wait_until, wait_signal: null when the step does not wait */
  wait: StepWait | null;
  // columns the state does not hold: written only when set
  setOutput: boolean;
  output: unknown;
  setCompensationError: boolean;
  compensationError: Record<string, unknown> | null;
  // timestamps (the database's now())
  /** started_at = coalesce(started_at, now()) */
  started: boolean;
  /** finished_at = now() ('now'), null ('clear'), or unchanged ('keep') */
  finishedAt: 'now' | 'clear' | 'keep';
  /** compensated_at = now() */
  compensated: boolean;
}

export interface AttemptWrite extends AttemptRecord {
  runId: string;
  stepIndex: number;
  kind: AttemptKind;
}

export type OutboxWrite =
  /** the item acted on: moved on (READY, due at `dueAt` or now, maybe leased on) or parked (DEAD) */
  | {
      op: 'update';
      id: string;
      stepIndex: number;
      kind: AttemptKind;
      status: 'READY' | 'DEAD';
      /** null: now (or the end of the lease when leased) */
      dueAt: Date | null;
      keepDue: boolean;
      lease: { owner: string; token: string; ms: number } | null;
      /** due now instead when the run has an unconsumed signal of this name at commit (a wait that just began) */
      wakeOnSignal: string | null;
      /** null keeps the count */
      deliveries: number | null;
      setLastError: boolean;
      lastError: Record<string, unknown> | null;
      /** the run is paused: due_at = 'infinity' and the due time goes to held_due_at (never with a lease) */
      held: boolean;
    }
  | { op: 'delete'; id: string }
  | { op: 'insert'; runId: string; stepIndex: number; kind: AttemptKind; dueAt: Date | null; held: boolean }
  /** every DEAD item of the run */
  | { op: 'deleteParked'; runId: string }
  /** pause: the run's live item, unless an engine holds it, is held (due_at 'infinity', its due time kept) */
  | { op: 'hold'; runId: string }
  /** resume: the run's held item is due again at its kept due time, or now when that has passed */
  | { op: 'release'; runId: string };

/** A run_signals row written: a signal stored in the mailbox, or one consumed by a waiting step. */
export type SignalWrite =
  | {
      op: 'insert';
      id: string;
      runId: string;
      name: string;
      payload: unknown;
      idempotencyKey: string | null;
      requestHash: string | null;
    }
  | { op: 'consume'; id: string; runId: string; stepId: string };

export interface RowWrites {
  guard: WriteGuard;
  run: RunWrite | undefined;
  steps: StepWrite[];
  attempts: AttemptWrite[];
  outbox: OutboxWrite[];
  signals: SignalWrite[];
  /** the history this change appends, cause first, seq contiguous after the state's eventSeq */
  events: EventWrite[];
  /** an unleased item became due now: wake the engines (NOTIFY) at commit */
  wake: boolean;
  /** the run as these writes leave it */
  after: RunState;
  /** the run's next item, leased on to the caller by these writes (see WriteContext.carry) */
  carried: { stepIndex: number; kind: AttemptKind; leaseToken: string } | undefined;
}

export interface WriteContext {
  /** the run's outbox item the change acts on: the one a completion holds (with its lease), or cancel's unleased one */
  item?:
    { id: string; stepIndex: number; kind: AttemptKind; leaseToken: string | null; deliveries?: number } | undefined;
  /** the attempt of `item` whose result this is */
  attempt?: AttemptRecord | undefined;
  /** keep the lease on work that becomes due now, for this owner, under a token the caller minted */
  carry?: { owner: string; leaseMs: number; leaseToken: string } | undefined;
  /** an operator's request behind the change (OPERATOR_ACTION), e.g. retry-step */
  operator?: { action: string; reason: string | null; operationId: string | null } | undefined;
  /** why a cancel was requested (CANCEL_REQUESTED) */
  cancelReason?: string | null | undefined;
  /** the result the change records when it is a wait's (STEP_WAITING, STEP_WOKEN) */
  result?: AttemptResult | undefined;
}

/** The one rule "a leased item's step (or compensation) becomes RUNNING": used by the writer and by the claim. */
export function leaseStep(step: StepState, kind: AttemptKind): StepState {
  if (kind === 'action') return step.status === 'PENDING' ? { ...step, status: 'RUNNING' } : step;
  return step.compensationStatus === 'PENDING' ? { ...step, compensationStatus: 'RUNNING' } : step;
}

interface StepDraft {
  state: StepState;
  write: Omit<StepWrite, keyof StepState | 'runId' | 'stepIndex'>;
}

const untouched = (): StepDraft['write'] => ({
  setOutput: false,
  output: null,
  setCompensationError: false,
  compensationError: null,
  started: false,
  finishedAt: 'keep',
  compensated: false,
});

/** Each field of a StepChange, applied: the Record makes a new field a compile error until it is written here. */
const STEP_FIELDS: { [K in keyof Required<StepChange>]: (d: StepDraft, value: Required<StepChange>[K]) => void } = {
  index: () => undefined,
  status: (d, v) => {
    d.state.status = v;
    if (v === 'PENDING') d.write.finishedAt = 'clear';
  },
  compensationStatus: (d, v) => void (d.state.compensationStatus = v),
  attempts: (d, v) => void (d.state.attempts = v),
  compensationAttempts: (d, v) => void (d.state.compensationAttempts = v),
  output: (d, v) => Object.assign(d.write, { setOutput: true, output: v }),
  error: (d, v) => void (d.state.error = v),
  compensationError: (d, v) => Object.assign(d.write, { setCompensationError: true, compensationError: v }),
  finished: (d, v) => void (v && (d.write.finishedAt = 'now')),
  compensated: (d, v) => void (d.write.compensated = d.write.compensated || v),
  resetAttemptBudget: (d, v) => void (v && (d.state.attemptsBeforeRetry = d.state.attempts)),
  resetCompensationBudget: (d, v) =>
    void (v && (d.state.compensationAttemptsBeforeRetry = d.state.compensationAttempts)),
  wait: (d, v) => void (d.state.wait = v),
};

const sameWait = (a: StepWait | null, b: StepWait | null): boolean =>
  a === b ||
  (a !== null && b !== null && a.for === b.for && a.until.getTime() === b.until.getTime() && a.signal === b.signal);

function applyStepChange(draft: StepDraft, change: StepChange): void {
  for (const key of Object.keys(change) as Array<keyof StepChange>) {
    const value = change[key];
    if (value === undefined) continue;
    (STEP_FIELDS[key] as (d: StepDraft, v: unknown) => void)(draft, value);
  }
}

function assertMoves(from: StepState, to: StepState): void {
  assertStepTransition(from.status, to.status);
  assertCompensationTransition(from.compensationStatus, to.compensationStatus);
}

function changed(before: StepState, draft: StepDraft): boolean {
  const w = draft.write;
  const s = draft.state;
  return (
    w.setOutput ||
    w.setCompensationError ||
    w.started ||
    w.finishedAt !== 'keep' ||
    w.compensated ||
    s.status !== before.status ||
    s.compensationStatus !== before.compensationStatus ||
    s.attempts !== before.attempts ||
    s.attemptsBeforeRetry !== before.attemptsBeforeRetry ||
    s.compensationAttempts !== before.compensationAttempts ||
    s.compensationAttemptsBeforeRetry !== before.compensationAttemptsBeforeRetry ||
    s.error !== before.error ||
    !sameWait(s.wait, before.wait)
  );
}

function nextItemWrites(
  run: RunState,
  plan: Plan,
  context: WriteContext,
  held: boolean,
): { outbox: OutboxWrite[]; wake: boolean; carried: RowWrites['carried'] } {
  const { item } = context;
  // a paused run's next item is held, so it is never carried on either (docs/contract.md#pause)
  const carry = held ? undefined : context.carry;
  const outbox: OutboxWrite[] = [];
  if (plan.resolveParked) outbox.push({ op: 'deleteParked', runId: run.runId });
  const change = plan.item;
  if (change.type === 'keep') {
    if (plan.pause === true && !run.paused) outbox.push({ op: 'hold', runId: run.runId });
    if (plan.pause === false && run.paused && !held) {
      outbox.push({ op: 'release', runId: run.runId });
      return { outbox, wake: true, carried: undefined };
    }
    return { outbox, wake: false, carried: undefined };
  }
  if (change.type === 'delete') {
    if (item) outbox.push({ op: 'delete', id: item.id });
    return { outbox, wake: false, carried: undefined };
  }
  const base = { keepDue: false, setLastError: false, lastError: null, held, wakeOnSignal: null };
  if (change.type === 'move') {
    const { next } = change;
    if (!item) {
      outbox.push({ op: 'insert', runId: run.runId, ...next, held });
      return { outbox, wake: !held && next.dueAt === null, carried: undefined };
    }
    const lease =
      next.dueAt === null && carry ? { owner: carry.owner, token: carry.leaseToken, ms: carry.leaseMs } : null;
    outbox.push({
      op: 'update',
      id: item.id,
      stepIndex: next.stepIndex,
      kind: next.kind,
      status: 'READY',
      dueAt: next.dueAt,
      lease,
      deliveries: lease ? 1 : 0,
      ...base,
      wakeOnSignal: next.wakeOnSignal ?? null,
    });
    const carried = lease ? { stepIndex: next.stepIndex, kind: next.kind, leaseToken: lease.token } : undefined;
    return { outbox, wake: !held && !lease && next.dueAt === null, carried };
  }
  // park: the item is retired as DEAD; what comes next is a new item
  if (item) {
    outbox.push({
      op: 'update',
      id: item.id,
      stepIndex: item.stepIndex,
      kind: item.kind,
      status: 'DEAD',
      dueAt: null,
      lease: null,
      deliveries: null,
      ...base,
      held: false,
      keepDue: true,
      setLastError: true,
      lastError: change.lastError,
    });
  }
  if (change.next) outbox.push({ op: 'insert', runId: run.runId, ...change.next, held });
  return { outbox, wake: !held && change.next?.dueAt === null, carried: undefined };
}

type EventDraft = Omit<EventWrite, 'runId' | 'seq'>;

/** A wait's history: STEP_WAITING when it begins, STEP_WOKEN when it ends (both when it ends as it begins). */
function waitEvents(result: AttemptResult | undefined, stepId: string | null): EventDraft[] {
  if (!result) return [];
  const at = { stepId, kind: 'action' as const, attempt: null };
  const waiting = (wait: StepWait): EventDraft => ({
    type: 'STEP_WAITING',
    ...at,
    data: { waitFor: wait.for, until: wait.until.toISOString() },
  });
  if (result.outcome === 'WAITING') return result.began ? [waiting(result.wait)] : [];
  if (result.outcome === 'RETRYABLE' || !result.woken) return [];
  const { woken } = result;
  return [
    ...(woken.began ? [waiting(woken.wait)] : []),
    { type: 'STEP_WOKEN', ...at, data: { cause: woken.cause, signalId: woken.signalId } },
  ];
}

/** The events of a change, cause first (docs/contract.md#run-history): the request, the attempt, a parking, the run's status change. */
function eventsOf(run: RunState, plan: Plan, context: WriteContext, after: RunState): EventDraft[] {
  const events: EventDraft[] = [];
  const none = { stepId: null, kind: null, attempt: null };
  const stepId = (index: number): string | null => run.steps[index]?.stepId ?? null;
  if (context.operator) {
    const next = plan.item.type === 'move' ? plan.item.next : undefined;
    events.push({
      type: 'OPERATOR_ACTION',
      ...none,
      ...(next ? { stepId: stepId(next.stepIndex), kind: next.kind } : {}),
      data: {
        action: context.operator.action,
        reason: context.operator.reason,
        operationId: context.operator.operationId,
      },
    });
  }
  if (plan.cancel && !run.cancelRequested)
    events.push({ type: 'CANCEL_REQUESTED', ...none, data: { reason: context.cancelReason ?? null } });
  if (plan.receiveSignal)
    events.push({
      type: 'SIGNAL_RECEIVED',
      ...none,
      data: { name: plan.receiveSignal.name, signalId: plan.receiveSignal.signalId },
    });
  const { item, attempt } = context;
  events.push(...waitEvents(context.result, item ? stepId(item.stepIndex) : null));
  if (item && attempt) {
    const step = after.steps[item.stepIndex];
    const next = plan.item.type === 'move' ? plan.item.next : undefined;
    const retryAt =
      attempt.outcome === 'RETRYABLE' && next?.dueAt && next.stepIndex === item.stepIndex ? next.dueAt : null;
    events.push({
      type: 'ATTEMPT_FINISHED',
      stepId: stepId(item.stepIndex),
      kind: item.kind,
      attempt: attempt.attemptNo,
      data: {
        outcome: attempt.outcome,
        httpStatus: attempt.httpStatus,
        startedAt: attempt.startedAt.toISOString(),
        durationMs: attempt.finishedAt.getTime() - attempt.startedAt.getTime(),
        error: attempt.error,
        nextAttemptAt: retryAt ? retryAt.toISOString() : null,
        stepStatus: step?.status ?? null,
        compensationStatus: step?.compensationStatus ?? null,
      },
    });
  }
  if (item && plan.item.type === 'park' && plan.item.poison) {
    events.push({
      type: 'DELIVERY_PARKED',
      stepId: stepId(item.stepIndex),
      kind: item.kind,
      attempt: null,
      data: { deliveries: item.deliveries ?? null },
    });
  }
  if (after.status !== run.status) {
    events.push({
      type: 'RUN_STATUS_CHANGED',
      ...none,
      data: { from: run.status, to: after.status, error: after.error },
    });
  }
  return events;
}

/**
 * The writes that apply `plan` to `run`, and the state they leave. Throws IllegalTransitionError when any run, step or
 * compensation move would leave the state machine (nothing is written then).
 */
export function rowWrites(run: RunState, plan: Plan, context: WriteContext = {}): RowWrites {
  const drafts: StepDraft[] = run.steps.map((s) => ({ state: { ...s }, write: untouched() }));
  for (const change of plan.steps) {
    const draft = drafts[change.index];
    if (!draft) throw new Error(`run ${run.runId} has no step ${change.index}`);
    applyStepChange(draft, change);
  }
  for (const d of drafts) {
    if (plan.skipPending && d.state.status === 'PENDING') {
      if (d.state.attempts === 0) d.state.status = 'SKIPPED';
      else {
        // a step an operator retried, stopped before it ran again: it stays FAILED with its attempts (never SKIPPED)
        d.state.status = 'FAILED';
        d.state.error = { code: 'CANCELLED', message: 'the run stopped before the retried step ran again' };
        d.write.finishedAt = 'now';
      }
    }
    if (plan.unskip && d.state.status === 'SKIPPED') d.state.status = 'PENDING';
    // only a RUNNING step waits (run_steps_wait): a cancel or a failure ends the wait with the step
    if (d.state.status !== 'RUNNING') d.state.wait = null;
  }

  drafts.forEach((d, i) => assertMoves(run.steps[i]!, d.state));

  const status = plan.run?.status ?? run.status;
  const terminal = TERMINAL_RUN_STATUSES.includes(status);
  // a terminal run is never paused
  const paused = !terminal && (plan.pause ?? run.paused);
  const { outbox, wake, carried } = nextItemWrites(run, plan, context, paused || run.workflowPaused);
  if (carried) {
    const draft = drafts[carried.stepIndex];
    if (!draft) throw new Error(`run ${run.runId} has no step ${carried.stepIndex}`);
    const leased = leaseStep(draft.state, carried.kind);
    assertMoves(draft.state, leased);
    draft.state = leased;
    if (carried.kind === 'action') draft.write.started = true;
  }

  const steps: StepWrite[] = [];
  drafts.forEach((d, i) => {
    const before = run.steps[i]!;
    if (!changed(before, d)) return;
    const { index: _index, stepId: _stepId, ...columns } = d.state;
    steps.push({ runId: run.runId, stepIndex: d.state.index, ...columns, ...d.write });
  });

  const error = plan.run && plan.run.error !== undefined ? plan.run.error : run.error;
  const cancelRequested = run.cancelRequested || plan.cancel === true;
  assertRunTransition(run.status, status);
  const after: RunState = { ...run, status, error, cancelRequested, paused, steps: drafts.map((d) => d.state) };
  const events = eventsOf(run, plan, context, after).map((e, i) => ({
    runId: run.runId,
    seq: run.eventSeq + 1 + i,
    ...e,
  }));
  after.eventSeq = run.eventSeq + events.length;

  let runWrite: RunWrite | undefined;
  const pauseChanged = paused !== run.paused;
  if (plan.run || plan.cancel || pauseChanged || events.length > 0) {
    runWrite = {
      runId: run.runId,
      status,
      error,
      changed: plan.run !== undefined || plan.cancel === true || pauseChanged,
      terminal,
      cancel: plan.cancel === true && !run.cancelRequested,
      pausedAt: !pauseChanged ? 'keep' : paused ? 'now' : 'clear',
      eventSeq: after.eventSeq,
    };
  }

  const { item, attempt } = context;
  const attempts: AttemptWrite[] =
    attempt && item ? [{ runId: run.runId, stepIndex: item.stepIndex, kind: item.kind, ...attempt }] : [];
  const signals: SignalWrite[] = [];
  if (plan.receiveSignal) {
    const { signalId, ...received } = plan.receiveSignal;
    signals.push({ op: 'insert', id: signalId, runId: run.runId, ...received });
  }
  const consume = plan.consumeSignal;
  if (consume) {
    const stepId = run.steps[consume.stepIndex]?.stepId;
    if (!stepId) throw new Error(`run ${run.runId} has no step ${consume.stepIndex}`);
    signals.push({ op: 'consume', id: consume.signalId, runId: run.runId, stepId });
  }

  return {
    guard: {
      runId: run.runId,
      status: run.status,
      cancelRequested: run.cancelRequested,
      paused: run.paused,
      workflowPaused: run.workflowPaused,
      eventSeq: run.eventSeq,
      itemId: item?.leaseToken ? item.id : null,
      leaseToken: item?.leaseToken ?? null,
      unconsumedSignal: consume?.signalId ?? null,
    },
    run: runWrite,
    steps,
    attempts,
    outbox,
    signals,
    events,
    wake,
    after,
    carried,
  };
}
