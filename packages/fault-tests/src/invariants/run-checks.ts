import type { AttemptRecord, OutboxRecord, RunRecord, StepRecord, Violation } from './types.js';

/**
 * Pure checks of one run's rows against docs/contract.md#run-lifecycle and #delivery-guarantees: terminal, nothing left claimable, step statuses of the
 * right shape for the run's status, compensations exactly of the succeeded compensable steps and in reverse order,
 * attempt counters that match the recorded attempts.
 */

const TERMINAL = new Set(['COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED']);
const FORWARD_FAILURES = new Set(['STEP_FAILED', 'DELIVERY_EXHAUSTED', 'TEMPLATE_ERROR']);
const STEP_LETTER: Record<string, string> = { SUCCEEDED: 'S', FAILED: 'F', SKIPPED: 'K', PENDING: 'P', RUNNING: 'R' };

/** Steps with a compensation whose action succeeded: exactly what must be undone when a run unwinds. */
function compensable(steps: readonly StepRecord[]): StepRecord[] {
  return steps.filter((s) => s.status === 'SUCCEEDED' && s.compensationStatus !== 'NONE');
}

function describe(steps: readonly StepRecord[]): string {
  return steps.map((s) => `${s.stepId}=${s.status}/${s.compensationStatus}`).join(', ');
}

function checkOutbox(run: RunRecord, outbox: readonly OutboxRecord[], fail: (i: string, d: string) => void): void {
  const ready = outbox.filter((o) => o.status === 'READY');
  if (ready.length > 0) fail('nothing-claimable', `${ready.length} READY outbox item(s) left for a ${run.status} run`);
  for (const dead of outbox.filter((o) => o.status === 'DEAD')) {
    const parked = dead.lastError?.['code'] === 'DELIVERY_EXHAUSTED';
    if (!parked && run.error?.code !== 'COMPENSATION_FAILED') {
      fail(
        'nothing-claimable',
        `a DEAD item (step ${dead.stepIndex} ${dead.kind}) on a ${run.status} run that neither parked nor failed a compensation`,
      );
    }
  }
}

function checkCounters(
  steps: readonly StepRecord[],
  attempts: readonly AttemptRecord[],
  fail: (i: string, d: string) => void,
): void {
  for (const step of steps) {
    for (const [kind, counter] of [
      ['action', step.attempts],
      ['compensation', step.compensationAttempts],
    ] as const) {
      const numbers = attempts
        .filter((a) => a.stepIndex === step.index && a.kind === kind)
        .map((a) => a.attemptNo)
        .sort((a, b) => a - b);
      const contiguous = numbers.every((n, i) => n === i + 1);
      if (!contiguous || numbers.length !== counter) {
        fail(
          'attempts-recorded-once',
          `${step.stepId} ${kind}: counter ${counter}, recorded attempt numbers [${numbers.join(',')}]`,
        );
      }
    }
  }
}

function checkReverseOrder(attempts: readonly AttemptRecord[], fail: (i: string, d: string) => void): void {
  const compensations = attempts.filter((a) => a.kind === 'compensation').sort((a, b) => a.id - b.id);
  for (let i = 1; i < compensations.length; i++) {
    const before = compensations[i - 1]!;
    const after = compensations[i]!;
    if (
      after.stepIndex > before.stepIndex ||
      (after.stepIndex === before.stepIndex && before.outcome === 'SUCCEEDED')
    ) {
      fail(
        'reverse-order',
        `compensation attempt of step ${after.stepIndex} committed after one of step ${before.stepIndex}`,
      );
    }
  }
}

function checkByStatus(run: RunRecord, steps: readonly StepRecord[], fail: (i: string, d: string) => void): void {
  const code = run.error?.code;
  const failed = steps.filter((s) => s.status === 'FAILED');
  const undo = compensable(steps);
  const compensated = steps.filter((s) => s.compensationStatus === 'COMPENSATED');
  const compensationFailed = steps.filter((s) => s.compensationStatus === 'FAILED');
  const forwardFailure = (): void => {
    if (!code || !FORWARD_FAILURES.has(code)) fail('spec-4', `${run.status} run has error code ${String(code)}`);
    if (failed.length !== 1 || failed[0]!.stepId !== run.error?.stepId) {
      fail(
        'spec-4',
        `${run.status} run blames ${String(run.error?.stepId)} but its failed steps are [${failed.map((s) => s.stepId).join(',')}]`,
      );
    }
  };
  switch (run.status) {
    case 'COMPLETED':
      if (steps.some((s) => s.status !== 'SUCCEEDED'))
        fail('completed-all-succeeded', `not every step SUCCEEDED: ${describe(steps)}`);
      if (run.error !== null) fail('spec-4', 'a COMPLETED run carries an error');
      if (compensated.length + compensationFailed.length > 0)
        fail('spec-4', `a COMPLETED run ran compensations: ${describe(steps)}`);
      return;
    case 'COMPENSATED':
      forwardFailure();
      if (
        undo.length === 0 ||
        undo.some((s) => s.compensationStatus !== 'COMPENSATED') ||
        compensated.length !== undo.length
      ) {
        fail(
          'compensated-exactly-succeeded',
          `compensable steps [${undo.map((s) => s.stepId).join(',')}] vs compensated [${compensated.map((s) => s.stepId).join(',')}]: ${describe(steps)}`,
        );
      }
      return;
    case 'FAILED':
      if (code === 'COMPENSATION_FAILED') {
        const broken = compensationFailed[0];
        if (compensationFailed.length !== 1 || broken!.stepId !== run.error?.stepId) {
          fail(
            'spec-4',
            `COMPENSATION_FAILED blames ${String(run.error?.stepId)}; failed compensations: [${compensationFailed.map((s) => s.stepId).join(',')}]`,
          );
          return;
        }
        for (const step of undo) {
          const expected =
            step.index > broken!.index ? 'COMPENSATED' : step.index < broken!.index ? 'PENDING' : 'FAILED';
          if (step.compensationStatus !== expected)
            fail(
              'spec-4',
              `after ${broken!.stepId}'s compensation failed, ${step.stepId} is ${step.compensationStatus}, expected ${expected}`,
            );
        }
        return;
      }
      forwardFailure();
      if (undo.length > 0)
        fail('spec-4', `a FAILED (${String(code)}) run left compensable steps undone: ${describe(steps)}`);
      return;
    case 'CANCELLED':
      if (code !== 'CANCELLED' || !run.cancelRequested)
        fail('spec-4', `CANCELLED run with error ${String(code)}, cancel requested: ${run.cancelRequested}`);
      if (undo.some((s) => s.compensationStatus !== 'COMPENSATED'))
        fail('spec-4', `a CANCELLED run left compensable steps undone: ${describe(steps)}`);
      return;
    default:
      fail('terminal', `unexpected status ${run.status}`);
  }
}

/** Every invariant of one run that its own rows can show. `steps` in index order; `attempts` and `outbox` of this run. */
export function checkRun(
  run: RunRecord,
  steps: readonly StepRecord[],
  attempts: readonly AttemptRecord[],
  outbox: readonly OutboxRecord[],
): Violation[] {
  const violations: Violation[] = [];
  const fail = (invariant: string, detail: string): void => void violations.push({ runId: run.id, invariant, detail });
  if (!TERMINAL.has(run.status) || run.completedAt === null) {
    fail(
      'terminal',
      `run is ${run.status} (completed_at ${run.completedAt === null ? 'null' : 'set'}): it did not finish within the bound`,
    );
    return violations;
  }
  checkOutbox(run, outbox, fail);
  const shape = steps.map((s) => STEP_LETTER[s.status] ?? '?').join('');
  if (!/^S*F?K*$/.test(shape)) fail('spec-4', `step statuses are not succeeded* failed? skipped*: ${describe(steps)}`);
  const running = steps.filter((s) => s.compensationStatus === 'RUNNING');
  if (running.length > 0) fail('spec-4', `compensation RUNNING in a terminal run: ${describe(running)}`);
  checkCounters(steps, attempts, fail);
  checkReverseOrder(attempts, fail);
  checkByStatus(run, steps, fail);
  return violations;
}
