import { describe, expect, it } from 'vitest';
import {
  planCompletion,
  planRetry,
  rowWrites,
  type AttemptResult,
  type Plan,
  type RunError,
  type RunState,
  type StepState,
} from '../src/index.js';
import { runState } from './run-state.js';

/**
 * rowWrites(...).after is what a carried item plans its next completion from (completeItems commits guarded on it),
 * so it must be the run as the writes leave the rows (the property test checks that against Postgres).
 */

type StepRow = [StepState['status'], StepState['compensationStatus'], Record<string, unknown>?];

function snapshot(
  status: RunState['status'],
  rows: StepRow[],
  options: { cancelRequested?: boolean; error?: RunError | null } = {},
): RunState {
  return { ...runState(status, rows, options.cancelRequested ?? false), error: options.error ?? null };
}

/** The state the writes of `plan` leave, the held item carried on when `carried` says where to (it must be the plan's next). */
function snapshotAfter(run: RunState, plan: Plan, carried?: { stepIndex: number; kind: 'action' | 'compensation' }) {
  const item = { id: '1', stepIndex: 0, kind: 'action' as const, leaseToken: 'held' };
  const carry = carried ? { owner: 'engine', leaseMs: 1000, leaseToken: 'next' } : undefined;
  const writes = rowWrites(run, plan, { item, carry });
  if (carried) expect(writes.carried).toEqual({ ...carried, leaseToken: 'next' });
  else expect(writes.carried).toBeUndefined();
  return writes.after;
}

const rowsOf = (run: RunState): Array<[string, string]> => run.steps.map((s) => [s.status, s.compensationStatus]);

const retryAt = new Date('2030-01-01T00:00:00Z');
const succeeded: AttemptResult = { outcome: 'SUCCEEDED', output: { ok: 1 } };
const failed: AttemptResult = { outcome: 'FAILED', error: { code: 'STEP_FAILED', message: 'answered 422' } };
const retryable: AttemptResult = {
  outcome: 'RETRYABLE',
  retryAt,
  error: { code: 'HTTP_ERROR', message: 'answered 503' },
};
const httpError = { code: 'HTTP_ERROR', message: 'answered 503' };

describe('rowWrites after: forward success', () => {
  it('a middle step: the step succeeds (its retry error cleared), the next one starts only when carried', () => {
    const run = snapshot('RUNNING', [
      ['SUCCEEDED', 'PENDING'],
      ['RUNNING', 'PENDING', httpError],
      ['PENDING', 'NONE'],
    ]);
    const plan = planCompletion(run, { stepIndex: 1, kind: 'action' }, 2, succeeded);
    expect(plan.item).toEqual({ type: 'move', next: { stepIndex: 2, kind: 'action', dueAt: null } });

    const carried = snapshotAfter(run, plan, { stepIndex: 2, kind: 'action' });
    expect(rowsOf(carried)).toEqual([
      ['SUCCEEDED', 'PENDING'],
      ['SUCCEEDED', 'PENDING'],
      ['RUNNING', 'NONE'],
    ]);
    expect(carried.steps[1]!.error).toBeNull();
    expect(carried.status).toBe('RUNNING');
    expect(carried.error).toBeNull();
    expect(carried.cancelRequested).toBe(false);

    const handedBack = snapshotAfter(run, plan);
    expect(rowsOf(handedBack)).toEqual([
      ['SUCCEEDED', 'PENDING'],
      ['SUCCEEDED', 'PENDING'],
      ['PENDING', 'NONE'],
    ]);
  });

  it('the last step: the run completes and its error becomes null (a plan error of null is not "keep")', () => {
    const stale: RunError = { code: 'STEP_FAILED', message: 'from before a forward retry', stepId: 's1' };
    const run = snapshot(
      'RUNNING',
      [
        ['SUCCEEDED', 'NONE'],
        ['RUNNING', 'NONE'],
      ],
      { error: stale },
    );
    const plan = planCompletion(run, { stepIndex: 1, kind: 'action' }, 1, succeeded);
    const after = snapshotAfter(run, plan);
    expect(after.status).toBe('COMPLETED');
    expect(after.error).toBeNull();
    expect(rowsOf(after)).toEqual([
      ['SUCCEEDED', 'NONE'],
      ['SUCCEEDED', 'NONE'],
    ]);
  });

  it('keeps the fields it does not change (runId, createdAt, ...) and does not mutate its input', () => {
    const run = snapshot('RUNNING', [
      ['RUNNING', 'PENDING'],
      ['PENDING', 'NONE'],
    ]);
    const copy = structuredClone(run);
    const plan = planCompletion(run, { stepIndex: 0, kind: 'action' }, 1, succeeded);
    const after = snapshotAfter(run, plan, { stepIndex: 1, kind: 'action' });
    expect(after.runId).toBe(run.runId);
    expect(after.createdAt).toBe(run.createdAt);
    expect(run).toEqual(copy);
    expect(after).not.toBe(run);
  });
});

describe('rowWrites after: forward failure', () => {
  it('fails the step, skips the pending ones, sets the run error, and starts the carried compensation', () => {
    const run = snapshot('RUNNING', [
      ['SUCCEEDED', 'PENDING'],
      ['RUNNING', 'PENDING'],
      ['PENDING', 'PENDING'],
      ['PENDING', 'NONE'],
    ]);
    const plan = planCompletion(run, { stepIndex: 1, kind: 'action' }, 1, failed);
    expect(plan.skipPending).toBe(true);
    const after = snapshotAfter(run, plan, { stepIndex: 0, kind: 'compensation' });
    expect(rowsOf(after)).toEqual([
      ['SUCCEEDED', 'RUNNING'],
      ['FAILED', 'PENDING'], // only the carried step's compensation starts
      ['SKIPPED', 'PENDING'],
      ['SKIPPED', 'NONE'],
    ]);
    expect(after.steps[1]!.error).toEqual({ code: 'STEP_FAILED', message: 'answered 422' });
    expect(after.status).toBe('COMPENSATING');
    expect(after.error).toEqual({ code: 'STEP_FAILED', message: 'answered 422', stepId: 's1' });
  });

  it('with nothing to compensate the run fails and nothing is carried', () => {
    const run = snapshot('RUNNING', [
      ['RUNNING', 'NONE'],
      ['PENDING', 'NONE'],
    ]);
    const plan = planCompletion(run, { stepIndex: 0, kind: 'action' }, 1, failed);
    const after = snapshotAfter(run, plan);
    expect(rowsOf(after)).toEqual([
      ['FAILED', 'NONE'],
      ['SKIPPED', 'NONE'],
    ]);
    expect(after.status).toBe('FAILED');
    expect(after.error).toEqual({ code: 'STEP_FAILED', message: 'answered 422', stepId: 's0' });
  });

  it('a retryable failure records the step error and changes no status', () => {
    const run = snapshot('RUNNING', [
      ['RUNNING', 'PENDING'],
      ['PENDING', 'NONE'],
    ]);
    const plan = planCompletion(run, { stepIndex: 0, kind: 'action' }, 1, retryable);
    const after = snapshotAfter(run, plan);
    expect(rowsOf(after)).toEqual(rowsOf(run));
    expect(after.steps[0]!.error).toEqual(httpError);
    expect(after.status).toBe('RUNNING');
    expect(after.error).toBeNull();
  });

  it('a success after a cancel request unwinds: the same step compensation is carried, the rest skipped', () => {
    const run = snapshot(
      'CANCELLING',
      [
        ['RUNNING', 'PENDING'],
        ['PENDING', 'PENDING'],
      ],
      {
        cancelRequested: true,
        error: { code: 'CANCELLED', message: 'run cancelled by request' },
      },
    );
    const plan = planCompletion(run, { stepIndex: 0, kind: 'action' }, 1, succeeded);
    const after = snapshotAfter(run, plan, { stepIndex: 0, kind: 'compensation' });
    expect(rowsOf(after)).toEqual([
      ['SUCCEEDED', 'RUNNING'],
      ['SKIPPED', 'PENDING'],
    ]);
    expect(after.status).toBe('CANCELLING');
    expect(after.cancelRequested).toBe(true);
    expect(after.error).toEqual({ code: 'CANCELLED', message: 'run cancelled by request' });
  });
});

describe('rowWrites after: compensation', () => {
  it('a compensation success marks it COMPENSATED, keeps the run error, and starts the next carried compensation', () => {
    const failure: RunError = { code: 'STEP_FAILED', message: 'answered 422', stepId: 's3' };
    const run = snapshot(
      'COMPENSATING',
      [
        ['SUCCEEDED', 'PENDING'],
        ['SUCCEEDED', 'PENDING'],
        ['SUCCEEDED', 'RUNNING'],
        ['FAILED', 'PENDING'],
      ],
      { error: failure },
    );
    const plan = planCompletion(run, { stepIndex: 2, kind: 'compensation' }, 1, succeeded);
    expect(plan.run?.error).toBeUndefined(); // "keep the current error"
    const after = snapshotAfter(run, plan, { stepIndex: 1, kind: 'compensation' });
    expect(rowsOf(after)).toEqual([
      ['SUCCEEDED', 'PENDING'],
      ['SUCCEEDED', 'RUNNING'],
      ['SUCCEEDED', 'COMPENSATED'],
      ['FAILED', 'PENDING'],
    ]);
    expect(after.status).toBe('COMPENSATING');
    expect(after.error).toEqual(failure);
  });

  it('the last compensation ends the run COMPENSATED with the failure kept', () => {
    const failure: RunError = { code: 'STEP_FAILED', message: 'x', stepId: 's1' };
    const run = snapshot(
      'COMPENSATING',
      [
        ['SUCCEEDED', 'RUNNING'],
        ['FAILED', 'NONE'],
      ],
      { error: failure },
    );
    const plan = planCompletion(run, { stepIndex: 0, kind: 'compensation' }, 1, succeeded);
    const after = snapshotAfter(run, plan);
    expect(rowsOf(after)).toEqual([
      ['SUCCEEDED', 'COMPENSATED'],
      ['FAILED', 'NONE'],
    ]);
    expect(after.status).toBe('COMPENSATED');
    expect(after.error).toEqual(failure);
  });
});

describe('rowWrites after: carried marks only what is PENDING', () => {
  type Next = { stepIndex: number; kind: 'action' | 'compensation' };
  /** a plan that only moves the held item on to `next`, due now */
  const plan = (next: Next): Plan => ({
    steps: [],
    skipPending: false,
    unskip: false,
    item: { type: 'move', next: { ...next, dueAt: null } },
  });
  const carriedTo = (run: RunState, next: Next) => snapshotAfter(run, plan(next), next);

  it.each([['RUNNING'], ['SUCCEEDED'], ['FAILED'], ['SKIPPED']] as const)(
    'an action carried onto a %s step leaves it as it is',
    (status) => {
      const run = snapshot('RUNNING', [[status, 'NONE']]);
      expect(rowsOf(carriedTo(run, { stepIndex: 0, kind: 'action' }))).toEqual([[status, 'NONE']]);
    },
  );

  it('an action carried onto a PENDING step starts it, and no other step', () => {
    const run = snapshot('RUNNING', [
      ['PENDING', 'PENDING'],
      ['PENDING', 'NONE'],
    ]);
    expect(rowsOf(carriedTo(run, { stepIndex: 1, kind: 'action' }))).toEqual([
      ['PENDING', 'PENDING'],
      ['RUNNING', 'NONE'],
    ]);
  });

  it.each([['NONE'], ['RUNNING'], ['COMPENSATED'], ['FAILED']] as const)(
    'a compensation carried onto a %s compensation leaves it as it is',
    (compensation) => {
      const run = snapshot('COMPENSATING', [['SUCCEEDED', compensation]]);
      expect(rowsOf(carriedTo(run, { stepIndex: 0, kind: 'compensation' }))).toEqual([['SUCCEEDED', compensation]]);
    },
  );

  it('a compensation carried does not start the action, nor an action carried the compensation', () => {
    const run = snapshot('RUNNING', [['PENDING', 'PENDING']]);
    expect(rowsOf(carriedTo(run, { stepIndex: 0, kind: 'compensation' }))).toEqual([['PENDING', 'RUNNING']]);
    expect(rowsOf(carriedTo(run, { stepIndex: 0, kind: 'action' }))).toEqual([['RUNNING', 'PENDING']]);
  });

  it('skipping comes before the carry: a step the plan skips is not started by it', () => {
    const next = { stepIndex: 0, kind: 'action' } as const;
    const skipping: Plan = { ...plan(next), skipPending: true };
    const run = snapshot('RUNNING', [['PENDING', 'NONE']]);
    expect(rowsOf(snapshotAfter(run, skipping, next))).toEqual([['SKIPPED', 'NONE']]);
  });
});

describe('rowWrites after: unskip (a forward retry)', () => {
  it('turns SKIPPED steps PENDING again, the retried step PENDING (RUNNING when carried), and clears the run error', () => {
    const failure: RunError = { code: 'STEP_FAILED', message: 'answered 422', stepId: 's1' };
    const run = snapshot(
      'FAILED',
      [
        ['SUCCEEDED', 'PENDING'],
        ['FAILED', 'PENDING', { code: 'STEP_FAILED', message: 'answered 422' }],
        ['SKIPPED', 'NONE'],
        ['SKIPPED', 'PENDING'],
      ],
      {
        error: failure,
      },
    );
    const decision = planRetry(run, 1);
    if (!decision.ok) throw new Error(decision.reason);
    expect(decision.plan.unskip).toBe(true);

    const after = snapshotAfter(run, decision.plan);
    expect(rowsOf(after)).toEqual([
      ['SUCCEEDED', 'PENDING'],
      ['PENDING', 'PENDING'],
      ['PENDING', 'NONE'],
      ['PENDING', 'PENDING'],
    ]);
    expect(after.steps[1]!.error).toBeNull();
    expect(after.status).toBe('RUNNING');
    expect(after.error).toBeNull();

    const carried = snapshotAfter(run, decision.plan, { stepIndex: 1, kind: 'action' });
    expect(rowsOf(carried)).toEqual([
      ['SUCCEEDED', 'PENDING'],
      ['RUNNING', 'PENDING'],
      ['PENDING', 'NONE'],
      ['PENDING', 'PENDING'],
    ]);
  });

  it('a compensation retry resets the failed compensation to PENDING and resumes the unwinding', () => {
    const run = snapshot(
      'FAILED',
      [
        ['SUCCEEDED', 'FAILED'],
        ['FAILED', 'NONE', { code: 'STEP_FAILED', message: 'x' }],
      ],
      {
        error: { code: 'COMPENSATION_FAILED', message: 'comp down', stepId: 's0' },
      },
    );
    const decision = planRetry(run, 0);
    if (!decision.ok) throw new Error(decision.reason);
    const after = snapshotAfter(run, decision.plan, { stepIndex: 0, kind: 'compensation' });
    expect(rowsOf(after)).toEqual([
      ['SUCCEEDED', 'RUNNING'],
      ['FAILED', 'NONE'],
    ]);
    expect(after.status).toBe('COMPENSATING');
    expect(after.error).toEqual({ code: 'STEP_FAILED', message: 'x', stepId: 's1' });
  });
});
