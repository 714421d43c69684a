import { assertRunTransition, isTerminal } from './state-machine.js';
import type {
  AttemptKind,
  CompensationStatus,
  RunError,
  RunErrorCode,
  RunState,
  RunStatus,
  StepState,
  StepStatus,
  StepWait,
} from './types.js';

/**
 * Pure decisions: given a run's current state and what just happened, what changes. rowWrites turns a plan into the
 * rows to write; nothing here does I/O.
 */

export interface StepChange {
  index: number;
  status?: StepStatus;
  compensationStatus?: CompensationStatus;
  attempts?: number;
  compensationAttempts?: number;
  output?: unknown;
  error?: Record<string, unknown> | null;
  compensationError?: Record<string, unknown> | null;
  finished?: boolean;
  compensated?: boolean;
  /** manual retry: the attempt budget starts again from the attempts made so far */
  resetAttemptBudget?: boolean;
  resetCompensationBudget?: boolean;
  /** the step begins (or keeps) waiting, or stops waiting (null) */
  wait?: StepWait | null;
}

export interface RunChange {
  status: RunStatus;
  /** undefined keeps the current error */
  error?: RunError | null;
}

export interface NextItem {
  stepIndex: number;
  kind: AttemptKind;
  /** null: due now */
  dueAt: Date | null;
  /** a waitForSignal step: due now instead, when the run has an unconsumed signal of this name at commit */
  wakeOnSignal?: string;
}

export type ItemChange =
  | { type: 'keep' }
  | { type: 'delete' }
  | { type: 'move'; next: NextItem }
  /**
   * The item is retired as DEAD, for an operator's redrive. `poison`: parked because the item itself cannot complete
   * (SPEC §7: its deliveries ran out, or its definition has no such request), which history announces as
   * DELIVERY_PARKED; a compensation that used up its attempts is parked without it (its ATTEMPT_FINISHED says why).
   */
  | { type: 'park'; lastError: Record<string, unknown>; poison: boolean; next?: NextItem };

export interface Plan {
  steps: StepChange[];
  /** PENDING steps become SKIPPED (the run stopped before them) */
  skipPending: boolean;
  /** SKIPPED steps become PENDING again (a forward retry) */
  unskip: boolean;
  run?: RunChange;
  item: ItemChange;
  /** the run's cancel flag is set (cancelRun) */
  cancel?: boolean;
  /** the run's parked (DEAD) items are resolved, i.e. deleted (an operator's retry) */
  resolveParked?: boolean;
  /** the run's pause flag is set (true) or cleared (false); undefined keeps it (docs/contract.md#pause) */
  pause?: boolean;
  /** a signal for the run is stored in its mailbox (SIGNAL_RECEIVED) */
  receiveSignal?: ReceivedSignal;
  /** a waiting step took this signal from the mailbox: consumed once, or the writes are refused */
  consumeSignal?: { signalId: string; stepIndex: number };
}

/** A signal sent to a run (POST /v1/runs/{runId}/signals/{name}). */
export interface ReceivedSignal {
  signalId: string;
  name: string;
  payload: unknown;
  idempotencyKey: string | null;
  requestHash: string | null;
}

/** How a waiting step finished waiting (STEP_WOKEN); `began`: it also began in this change (STEP_WAITING first). */
export interface Woken {
  wait: StepWait;
  began: boolean;
  cause: 'timer' | 'signal' | 'timeout';
  signalId: string | null;
}

export interface AttemptError {
  code: string;
  message: string;
  [detail: string]: unknown;
}

export type AttemptResult =
  | { outcome: 'SUCCEEDED'; output: unknown; woken?: Woken }
  | { outcome: 'RETRYABLE'; retryAt: Date; error: AttemptError }
  /** park: the item is retired as dead (poison) instead of deleted or moved on */
  | { outcome: 'FAILED'; error: AttemptError & { code: RunErrorCode | string }; park?: boolean; woken?: Woken }
  /** a wait step waits (on): its item becomes due at `wait.until`; `began`: STEP_WAITING (not when it waits on) */
  | { outcome: 'WAITING'; wait: StepWait; began: boolean };

const FORWARD_FAILURE_CODES: readonly string[] = ['STEP_FAILED', 'DELIVERY_EXHAUSTED', 'TEMPLATE_ERROR'];

export const CANCELLED_ERROR: RunError = { code: 'CANCELLED', message: 'run cancelled by request' };

/** The step to compensate next: the highest index below `below` that succeeded and still has a pending compensation. */
export function nextCompensationIndex(steps: readonly StepState[], below: number): number | undefined {
  for (let i = Math.min(below, steps.length) - 1; i >= 0; i--) {
    const step = steps[i]!;
    if (step.status === 'SUCCEEDED' && step.compensationStatus === 'PENDING') return i;
  }
  return undefined;
}

function withChanges(steps: readonly StepState[], changes: readonly StepChange[]): StepState[] {
  return steps.map((s) => {
    const c = changes.find((x) => x.index === s.index);
    if (!c) return s;
    return { ...s, status: c.status ?? s.status, compensationStatus: c.compensationStatus ?? s.compensationStatus };
  });
}

function move(from: RunStatus, to: RunStatus): RunStatus {
  assertRunTransition(from, to);
  return to;
}

/**
 * Unwind from below `below`: enqueue the next compensation, or finish the run when none is left.
 * `failure` is the run error to set when the run fails without compensating anything.
 */
function planUnwind(
  run: RunState,
  steps: StepState[],
  below: number,
  failure: RunError | undefined,
): Pick<Plan, 'run' | 'item'> {
  const next = nextCompensationIndex(steps, below);
  const cancelling = run.cancelRequested;
  if (next !== undefined) {
    const status = move(run.status, cancelling ? 'CANCELLING' : 'COMPENSATING');
    return {
      run: { status, error: cancelling ? CANCELLED_ERROR : failure },
      item: { type: 'move', next: { stepIndex: next, kind: 'compensation', dueAt: null } },
    };
  }
  const anyCompensated = steps.some((s) => s.compensationStatus === 'COMPENSATED');
  if (cancelling)
    return { run: { status: move(run.status, 'CANCELLED'), error: CANCELLED_ERROR }, item: { type: 'delete' } };
  if (anyCompensated)
    return { run: { status: move(run.status, 'COMPENSATED'), error: failure }, item: { type: 'delete' } };
  return { run: { status: move(run.status, 'FAILED'), error: failure }, item: { type: 'delete' } };
}

function parkInstead(plan: Pick<Plan, 'run' | 'item'>, error: AttemptError): Pick<Plan, 'run' | 'item'> {
  const next = plan.item.type === 'move' ? plan.item.next : undefined;
  return { run: plan.run, item: { type: 'park', lastError: error, poison: true, ...(next ? { next } : {}) } };
}

/** What an attempt's result changes. */
export function planCompletion(
  run: RunState,
  item: { stepIndex: number; kind: AttemptKind },
  attemptNo: number | undefined,
  result: AttemptResult,
): Plan {
  const base = { skipPending: false, unskip: false };
  if (!['RUNNING', 'COMPENSATING', 'CANCELLING'].includes(run.status)) {
    // nothing may move a run that is not in flight: retire the stray item
    return { ...base, steps: [], item: { type: 'delete' } };
  }
  const index = item.stepIndex;
  const step = run.steps[index];
  if (!step) throw new Error(`run has no step ${index}`);
  const counted =
    attemptNo === undefined
      ? {}
      : item.kind === 'action'
        ? { attempts: attemptNo }
        : { compensationAttempts: attemptNo };

  if (item.kind === 'action') {
    if (result.outcome === 'SUCCEEDED') {
      const change: StepChange = {
        index,
        status: 'SUCCEEDED',
        output: result.output,
        error: null,
        finished: true,
        ...counted,
        ...(result.woken ? { wait: null } : {}),
      };
      const consumed = consumedBy(result, index);
      if (!run.cancelRequested) {
        if (index + 1 < run.steps.length) {
          return {
            ...base,
            ...consumed,
            steps: [change],
            item: { type: 'move', next: { stepIndex: index + 1, kind: 'action', dueAt: null } },
          };
        }
        return {
          ...base,
          ...consumed,
          steps: [change],
          run: { status: move(run.status, 'COMPLETED'), error: null },
          item: { type: 'delete' },
        };
      }
      const steps = withChanges(run.steps, [change]);
      return {
        ...base,
        ...consumed,
        steps: [change],
        skipPending: true,
        ...planUnwind(run, steps, index + 1, undefined),
      };
    }
    if (result.outcome === 'WAITING' && !run.cancelRequested) {
      const { wait } = result;
      return {
        ...base,
        steps: [{ index, wait }],
        item: {
          type: 'move',
          next: {
            stepIndex: index,
            kind: 'action',
            dueAt: wait.until,
            ...(wait.signal !== null ? { wakeOnSignal: wait.signal } : {}),
          },
        },
      };
    }
    if (result.outcome === 'RETRYABLE' && !run.cancelRequested) {
      return {
        ...base,
        steps: [{ index, error: result.error, ...counted }],
        item: { type: 'move', next: { stepIndex: index, kind: 'action', dueAt: result.retryAt } },
      };
    }
    // a permanent failure, or a retry or a wait that a cancel withdrew
    const error: AttemptError =
      result.outcome === 'FAILED'
        ? result.error
        : result.outcome === 'WAITING'
          ? { code: 'CANCELLED', message: 'run cancelled while the step waited' }
          : { code: 'CANCELLED', message: 'run cancelled before the step succeeded', lastError: result.error };
    const change: StepChange = { index, status: 'FAILED', error, finished: true, ...counted };
    const steps = withChanges(run.steps, [change]);
    const code = (FORWARD_FAILURE_CODES.includes(error.code) ? error.code : 'STEP_FAILED') as RunErrorCode;
    const failure: RunError = { code, message: error.message, stepId: step.stepId };
    const unwind = planUnwind(run, steps, index, failure);
    const parked = result.outcome === 'FAILED' && result.park ? parkInstead(unwind, error) : unwind;
    return { ...base, steps: [change], skipPending: true, ...parked };
  }

  // compensation
  if (result.outcome === 'SUCCEEDED') {
    const change: StepChange = {
      index,
      compensationStatus: 'COMPENSATED',
      compensationError: null,
      compensated: true,
      ...counted,
    };
    const steps = withChanges(run.steps, [change]);
    return { ...base, steps: [change], skipPending: true, ...planUnwind(run, steps, index, undefined) };
  }
  if (result.outcome === 'WAITING') throw new Error(`a compensation never waits (step ${step.stepId})`);
  if (result.outcome === 'RETRYABLE') {
    return {
      ...base,
      steps: [{ index, compensationError: result.error, ...counted }],
      item: { type: 'move', next: { stepIndex: index, kind: 'compensation', dueAt: result.retryAt } },
    };
  }
  const change: StepChange = { index, compensationStatus: 'FAILED', compensationError: result.error, ...counted };
  return {
    ...base,
    steps: [change],
    skipPending: true,
    run: {
      status: move(run.status, 'FAILED'),
      error: { code: 'COMPENSATION_FAILED', message: result.error.message, stepId: step.stepId },
    },
    item: { type: 'park', lastError: result.error, poison: result.outcome === 'FAILED' && result.park === true },
  };
}

/** The signal a woken step took from the mailbox, to be consumed by the same writes. */
function consumedBy(result: AttemptResult, index: number): Pick<Plan, 'consumeSignal'> {
  if (result.outcome === 'SUCCEEDED' && result.woken?.cause === 'signal' && result.woken.signalId !== null)
    return { consumeSignal: { signalId: result.woken.signalId, stepIndex: index } };
  return {};
}

/**
 * A signal arrives for a run that is not terminal: it is stored (mailbox), and when the run's live item waits for a
 * signal of this name, that item becomes due now (the engine wakes the step and consumes the oldest such signal).
 * `liveItem` is the run's unleased live item; a leased one is its holder's (a wait it commits wakes at once when a
 * signal of its name is in the mailbox then: NextItem.wakeOnSignal).
 */
export function planSignal(
  run: RunState,
  signal: ReceivedSignal,
  liveItem: { stepIndex: number; kind: AttemptKind } | undefined,
): Decision<Plan> {
  if (isTerminal(run.status)) return { ok: false, reason: `run is ${run.status}; a terminal run takes no signals` };
  const base = { skipPending: false, unskip: false, steps: [], receiveSignal: signal };
  const waiting = liveItem?.kind === 'action' ? run.steps[liveItem.stepIndex]?.wait : undefined;
  if (liveItem && waiting?.for === 'signal' && waiting.signal === signal.name)
    return {
      ok: true,
      plan: { ...base, item: { type: 'move', next: { stepIndex: liveItem.stepIndex, kind: 'action', dueAt: null } } },
    };
  return { ok: true, plan: { ...base, item: { type: 'keep' } } };
}

export type Decision<T> = { ok: true; plan: T } | { ok: false; reason: string };

/** cancelRun: PENDING/RUNNING only. A leased item is in flight: it finishes and the engine unwinds after it. */
export function planCancel(
  run: RunState,
  liveItem: { stepIndex: number; kind: AttemptKind; leased: boolean } | undefined,
): Decision<Plan> {
  if (run.status !== 'PENDING' && run.status !== 'RUNNING') {
    return { ok: false, reason: `run is ${run.status}; only PENDING or RUNNING runs can be cancelled` };
  }
  const base = { skipPending: false, unskip: false };
  const cancelling: RunState = { ...run, cancelRequested: true };
  if (liveItem?.leased) {
    return {
      ok: true,
      plan: {
        ...base,
        steps: [],
        run: { status: move(run.status, 'CANCELLING'), error: CANCELLED_ERROR },
        item: { type: 'keep' },
        cancel: true,
        ...(run.paused ? { pause: false } : {}),
      },
    };
  }
  const changes: StepChange[] = [];
  const inRetry = liveItem ? run.steps[liveItem.stepIndex] : undefined;
  if (inRetry?.status === 'RUNNING') {
    changes.push({
      index: inRetry.index,
      status: 'FAILED',
      error: { code: 'CANCELLED', message: 'run cancelled before the step succeeded' },
      finished: true,
    });
  }
  const steps = withChanges(run.steps, changes);
  const unwind = planUnwind(cancelling, steps, liveItem?.stepIndex ?? steps.length, undefined);
  // cancel wins over a pause: the run unpauses and unwinds
  const unpause = run.paused ? { pause: false } : {};
  return { ok: true, plan: { ...base, steps: changes, skipPending: true, ...unwind, cancel: true, ...unpause } };
}

/** retryStep: the two cases of docs/contract.md#retry-step; anything else is refused with the reason. */
export function planRetry(run: RunState, stepIndex: number): Decision<Plan> {
  const step = run.steps[stepIndex];
  if (!step) return { ok: false, reason: 'unknown step' };
  const base = { skipPending: false, unskip: false };
  if (run.status !== 'FAILED') return { ok: false, reason: `run is ${run.status}; only FAILED runs can be retried` };
  const code = run.error?.code;

  if (step.compensationStatus === 'FAILED' && code === 'COMPENSATION_FAILED') {
    const forward = run.steps.find((s) => s.status === 'FAILED' && s.error && s.error['code'] !== 'CANCELLED');
    const error: RunError = run.cancelRequested
      ? CANCELLED_ERROR
      : forward
        ? {
            code: (FORWARD_FAILURE_CODES.includes(String(forward.error?.['code']))
              ? forward.error?.['code']
              : 'STEP_FAILED') as RunErrorCode,
            message: String(forward.error?.['message'] ?? 'step failed'),
            stepId: forward.stepId,
          }
        : { code: 'STEP_FAILED', message: 'step failed' };
    return {
      ok: true,
      plan: {
        ...base,
        steps: [
          { index: stepIndex, compensationStatus: 'PENDING', compensationError: null, resetCompensationBudget: true },
        ],
        run: { status: move(run.status, run.cancelRequested ? 'CANCELLING' : 'COMPENSATING'), error },
        item: { type: 'move', next: { stepIndex, kind: 'compensation', dueAt: null } },
        resolveParked: true,
      },
    };
  }

  if (step.status === 'FAILED' && code && FORWARD_FAILURE_CODES.includes(code) && !run.cancelRequested) {
    const unwound = run.steps.some((s) => s.compensationStatus !== 'NONE' && s.compensationStatus !== 'PENDING');
    if (unwound) return { ok: false, reason: 'the run has already compensated steps; it cannot go forward again' };
    return {
      ok: true,
      plan: {
        ...base,
        unskip: true,
        steps: [{ index: stepIndex, status: 'PENDING', error: null, resetAttemptBudget: true }],
        run: { status: move(run.status, 'RUNNING'), error: null },
        item: { type: 'move', next: { stepIndex, kind: 'action', dueAt: null } },
        resolveParked: true,
      },
    };
  }
  if (step.compensationStatus === 'FAILED')
    return { ok: false, reason: `run error is ${code}, not COMPENSATION_FAILED` };
  if (step.status === 'FAILED')
    return {
      ok: false,
      reason: `run error is ${code}; a forward retry needs STEP_FAILED, DELIVERY_EXHAUSTED or TEMPLATE_ERROR and no cancel`,
    };
  return {
    ok: false,
    reason: `step is ${step.status} with compensation ${step.compensationStatus}; only a FAILED action or a FAILED compensation can be retried`,
  };
}

/** What redrive runs again: the step (or compensation) retry-step would be named with, chosen for the operator. */
export interface RedriveTarget {
  stepIndex: number;
  kind: AttemptKind;
}

/**
 * redrive (docs/contract.md#redrive): the failed compensation of a COMPENSATION_FAILED run, else the failed step of a
 * forward failure — the two cases of planRetry without naming the step. Anything else is refused with the reason.
 */
export function planRedrive(run: RunState): Decision<{ plan: Plan; target: RedriveTarget }> {
  if (run.status !== 'FAILED') {
    const why =
      run.status === 'COMPENSATED'
        ? 'its failure was compensated'
        : isTerminal(run.status)
          ? 'it did not fail'
          : 'it has not finished';
    return { ok: false, reason: `run is ${run.status} (${why}); only FAILED runs can be redriven` };
  }
  const code = run.error?.code;
  let index: number | undefined;
  let kind: AttemptKind;
  if (code === 'COMPENSATION_FAILED') {
    index = run.steps.find((s) => s.compensationStatus === 'FAILED')?.index;
    kind = 'compensation';
    if (index === undefined)
      return { ok: false, reason: 'run error is COMPENSATION_FAILED but no compensation is FAILED' };
  } else {
    const named = run.steps.find((s) => s.stepId === run.error?.stepId && s.status === 'FAILED');
    index = (named ?? run.steps.find((s) => s.status === 'FAILED'))?.index;
    kind = 'action';
    if (index === undefined) return { ok: false, reason: `run error is ${code ?? 'none'} and no step is FAILED` };
  }
  const decision = planRetry(run, index);
  if (!decision.ok) return { ok: false, reason: decision.reason };
  return { ok: true, plan: { plan: decision.plan, target: { stepIndex: index, kind } } };
}

/** Why an operator action did nothing: `noop` (already in the asked state: 202 again), `conflict` (409). */
export type PauseDecision = { ok: true; plan: Plan } | { ok: false; noop: boolean; reason: string };

/**
 * pause (docs/contract.md#pause): the run's flag is set; its live item, unless an engine holds it (an attempt in
 * flight, which finishes and is recorded), is held until resume. A terminal or cancelling run cannot be paused
 * (cancel wins); a paused run again is a no-op.
 */
export function planPause(run: RunState): PauseDecision {
  if (isTerminal(run.status))
    return { ok: false, noop: false, reason: `run is ${run.status}; a terminal run cannot be paused` };
  if (run.status === 'CANCELLING' || run.cancelRequested)
    return { ok: false, noop: false, reason: 'run is being cancelled; cancel wins over pause' };
  if (run.paused) return { ok: false, noop: true, reason: 'run is already paused' };
  return { ok: true, plan: { steps: [], skipPending: false, unskip: false, item: { type: 'keep' }, pause: true } };
}

/** resume: the flag is cleared and the held item is due again (at once when its due time passed while paused). */
export function planResume(run: RunState): PauseDecision {
  if (!run.paused) return { ok: false, noop: true, reason: 'run is not paused' };
  return { ok: true, plan: { steps: [], skipPending: false, unskip: false, item: { type: 'keep' }, pause: false } };
}
