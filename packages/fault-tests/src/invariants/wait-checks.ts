import type { EventRecord, RunRecord, SignalRecord, StepRecord, Violation } from './types.js';

/**
 * A run's waits (docs/contract.md#durable-waits) in its history: STEP_WAITING and STEP_WOKEN pair up per step (a step
 * wakes only after it began to wait, and waits once at a time); a woken step ended as its cause says (timer or signal:
 * SUCCEEDED; timeout: SUCCEEDED with output null, or FAILED with SIGNAL_TIMEOUT); a step still waiting when the run
 * ended was cancelled (FAILED). Signals (`history-signals`): each SIGNAL_RECEIVED names a stored signal of the run,
 * every wake by a signal names one received before it, no signal wakes two steps, and a stored signal is consumed
 * exactly when a STEP_WOKEN names it (by that step).
 */
export function checkWaits(
  run: RunRecord,
  steps: readonly StepRecord[],
  events: readonly EventRecord[],
  signals: readonly SignalRecord[] | undefined,
): Violation[] {
  const violations: Violation[] = [];
  const fail = (invariant: string, detail: string) => violations.push({ runId: run.id, invariant, detail });
  const stepById = new Map(steps.map((s) => [s.stepId, s]));
  const waiting = new Set<string>();
  const received = new Set<string>();
  const wokenBy = new Map<string, string>();
  for (const e of events) {
    const stepId = e.stepId ?? '?';
    if (e.type === 'SIGNAL_RECEIVED') received.add(String(e.data['signalId']));
    if (e.type === 'STEP_WAITING') {
      if (waiting.has(stepId)) fail('history-replay', `seq ${e.seq}: ${stepId} begins to wait while it waits`);
      waiting.add(stepId);
    }
    if (e.type !== 'STEP_WOKEN') continue;
    if (!waiting.delete(stepId)) fail('history-replay', `seq ${e.seq}: ${stepId} wakes without waiting`);
    const step = stepById.get(stepId);
    const cause = e.data['cause'];
    const signalId = e.data['signalId'];
    if (cause === 'signal') {
      const id = String(signalId);
      if (!received.has(id)) fail('history-signals', `seq ${e.seq}: ${stepId} woken by ${id}, never received before`);
      const other = wokenBy.get(id);
      if (other !== undefined) fail('history-signals', `signal ${id} woke ${other} and ${stepId}`);
      wokenBy.set(id, stepId);
    } else if (signalId !== null) {
      fail('history-replay', `seq ${e.seq}: a ${String(cause)} wake names signal ${String(signalId)}`);
    }
    if (!step || run.completedAt === null) continue;
    const timedOutFail = cause === 'timeout' && step.status === 'FAILED' && step.error?.['code'] === 'SIGNAL_TIMEOUT';
    const timedOutContinue = cause === 'timeout' && step.status === 'SUCCEEDED' && step.output === null;
    const succeeded = cause !== 'timeout' && step.status === 'SUCCEEDED';
    if (!timedOutFail && !timedOutContinue && !succeeded)
      fail('history-replay', `${stepId} woken by ${String(cause)} but ended ${step.status}`);
  }
  if (run.completedAt !== null) {
    for (const stepId of waiting) {
      const status = stepById.get(stepId)?.status;
      if (status !== 'FAILED' || !run.cancelRequested)
        fail('history-replay', `${stepId} still waits in the history of a ${run.status} run (step ${status})`);
    }
  }
  if (!signals) return violations;
  const stored = new Map(signals.map((s) => [s.id, s]));
  for (const id of received) if (!stored.has(id)) fail('history-signals', `SIGNAL_RECEIVED ${id} has no stored signal`);
  for (const s of signals) {
    if (!received.has(s.id)) fail('history-signals', `signal ${s.id} (${s.name}) has no SIGNAL_RECEIVED`);
    const woke = wokenBy.get(s.id);
    if (s.consumedBy !== (woke ?? null))
      fail('history-signals', `signal ${s.id} consumed by ${String(s.consumedBy)}, woke ${String(woke ?? null)}`);
  }
  return violations;
}
