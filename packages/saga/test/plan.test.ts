import { describe, expect, it } from 'vitest';
import {
  CANCELLED_ERROR,
  IllegalTransitionError,
  nextCompensationIndex,
  planCancel,
  planCompletion,
  planRetry,
  type AttemptResult,
  type RunError,
} from '../src/index.js';
import { runState, type StepRow } from './run-state.js';

const snapshot = runState;

const retryAt = new Date('2030-01-01T00:00:00Z');
const succeeded: AttemptResult = { outcome: 'SUCCEEDED', output: { ok: 1 } };
const retryable: AttemptResult = {
  outcome: 'RETRYABLE',
  retryAt,
  error: { code: 'HTTP_ERROR', message: 'answered 503' },
};
const failed: AttemptResult = { outcome: 'FAILED', error: { code: 'STEP_FAILED', message: 'answered 422' } };

describe('nextCompensationIndex', () => {
  it('picks the highest succeeded step below the bound whose compensation is pending', () => {
    const run = snapshot('COMPENSATING', [
      ['SUCCEEDED', 'PENDING'],
      ['SUCCEEDED', 'NONE'],
      ['SUCCEEDED', 'COMPENSATED'],
      ['FAILED', 'PENDING'],
    ]);
    expect(nextCompensationIndex(run.steps, 4)).toBe(0);
    expect(nextCompensationIndex(run.steps, 0)).toBeUndefined();
    expect(nextCompensationIndex(run.steps, 99)).toBe(0);
  });

  it('never picks a step whose action did not succeed', () => {
    const run = snapshot('RUNNING', [
      ['FAILED', 'PENDING'],
      ['SKIPPED', 'PENDING'],
    ]);
    expect(nextCompensationIndex(run.steps, 2)).toBeUndefined();
  });
});

describe('planCompletion: runs that are not in flight', () => {
  it.each(['PENDING', 'COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED'] as const)(
    'retires a stray item of a %s run and changes nothing',
    (status) => {
      const plan = planCompletion(
        snapshot(status, [['RUNNING', 'NONE']]),
        { stepIndex: 0, kind: 'action' },
        1,
        succeeded,
      );
      expect(plan).toEqual({ steps: [], skipPending: false, unskip: false, item: { type: 'delete' } });
    },
  );

  it('throws on an item for a step the run does not have', () => {
    expect(() =>
      planCompletion(snapshot('RUNNING', [['RUNNING', 'NONE']]), { stepIndex: 3, kind: 'action' }, 1, succeeded),
    ).toThrow(/no step 3/);
  });
});

describe('planCompletion: actions', () => {
  it('a success moves on to the next step, recording output and attempts', () => {
    const plan = planCompletion(
      snapshot('RUNNING', [
        ['RUNNING', 'PENDING'],
        ['PENDING', 'NONE'],
      ]),
      { stepIndex: 0, kind: 'action' },
      2,
      succeeded,
    );
    expect(plan.steps).toEqual([
      { index: 0, status: 'SUCCEEDED', output: { ok: 1 }, error: null, finished: true, attempts: 2 },
    ]);
    expect(plan.run).toBeUndefined();
    expect(plan.item).toEqual({ type: 'move', next: { stepIndex: 1, kind: 'action', dueAt: null } });
    expect(plan.skipPending).toBe(false);
  });

  it('a success of the last step completes the run without an error', () => {
    const plan = planCompletion(
      snapshot('RUNNING', [
        ['SUCCEEDED', 'PENDING'],
        ['RUNNING', 'NONE'],
      ]),
      { stepIndex: 1, kind: 'action' },
      1,
      succeeded,
    );
    expect(plan.run).toEqual({ status: 'COMPLETED', error: null });
    expect(plan.item).toEqual({ type: 'delete' });
  });

  it('without an attempt number the attempt counter is left alone', () => {
    const plan = planCompletion(
      snapshot('RUNNING', [['RUNNING', 'NONE']]),
      { stepIndex: 0, kind: 'action' },
      undefined,
      succeeded,
    );
    expect(plan.steps[0]).not.toHaveProperty('attempts');
  });

  it('a success after a cancel request starts unwinding with the step that just succeeded', () => {
    const run = snapshot(
      'CANCELLING',
      [
        ['SUCCEEDED', 'PENDING'],
        ['RUNNING', 'PENDING'],
        ['PENDING', 'PENDING'],
      ],
      true,
    );
    const plan = planCompletion(run, { stepIndex: 1, kind: 'action' }, 1, succeeded);
    expect(plan.steps[0]).toMatchObject({ index: 1, status: 'SUCCEEDED' });
    expect(plan.skipPending).toBe(true);
    expect(plan.run).toEqual({ status: 'CANCELLING', error: CANCELLED_ERROR });
    expect(plan.item).toEqual({ type: 'move', next: { stepIndex: 1, kind: 'compensation', dueAt: null } });
  });

  it('a success after a cancel request with nothing to compensate cancels the run', () => {
    const run = snapshot(
      'CANCELLING',
      [
        ['SUCCEEDED', 'NONE'],
        ['RUNNING', 'NONE'],
        ['PENDING', 'NONE'],
      ],
      true,
    );
    const plan = planCompletion(run, { stepIndex: 1, kind: 'action' }, 1, succeeded);
    expect(plan.run).toEqual({ status: 'CANCELLED', error: CANCELLED_ERROR });
    expect(plan.item).toEqual({ type: 'delete' });
    expect(plan.skipPending).toBe(true);
  });

  it('a retryable failure keeps the step running and moves the item to the retry time', () => {
    const plan = planCompletion(
      snapshot('RUNNING', [['RUNNING', 'PENDING']]),
      { stepIndex: 0, kind: 'action' },
      1,
      retryable,
    );
    expect(plan.steps).toEqual([{ index: 0, error: { code: 'HTTP_ERROR', message: 'answered 503' }, attempts: 1 }]);
    expect(plan.run).toBeUndefined();
    expect(plan.item).toEqual({ type: 'move', next: { stepIndex: 0, kind: 'action', dueAt: retryAt } });
  });

  it('a retryable failure after a cancel request withdraws the retry and unwinds', () => {
    const run = snapshot(
      'CANCELLING',
      [
        ['SUCCEEDED', 'PENDING'],
        ['RUNNING', 'PENDING'],
      ],
      true,
    );
    const plan = planCompletion(run, { stepIndex: 1, kind: 'action' }, 1, retryable);
    expect(plan.steps).toEqual([
      {
        index: 1,
        status: 'FAILED',
        error: {
          code: 'CANCELLED',
          message: 'run cancelled before the step succeeded',
          lastError: { code: 'HTTP_ERROR', message: 'answered 503' },
        },
        finished: true,
        attempts: 1,
      },
    ]);
    expect(plan.run).toEqual({ status: 'CANCELLING', error: CANCELLED_ERROR });
    expect(plan.item).toEqual({ type: 'move', next: { stepIndex: 0, kind: 'compensation', dueAt: null } });
  });

  it('a permanent failure with nothing to compensate fails the run with STEP_FAILED naming the step', () => {
    const run = snapshot('RUNNING', [
      ['RUNNING', 'PENDING'],
      ['PENDING', 'PENDING'],
    ]);
    const plan = planCompletion(run, { stepIndex: 0, kind: 'action' }, 1, failed);
    expect(plan.steps).toEqual([
      {
        index: 0,
        status: 'FAILED',
        error: { code: 'STEP_FAILED', message: 'answered 422' },
        finished: true,
        attempts: 1,
      },
    ]);
    expect(plan.skipPending).toBe(true);
    expect(plan.run).toEqual({
      status: 'FAILED',
      error: { code: 'STEP_FAILED', message: 'answered 422', stepId: 's0' },
    });
    expect(plan.item).toEqual({ type: 'delete' });
  });

  it('a permanent failure after compensable steps starts compensating the latest one', () => {
    const run = snapshot('RUNNING', [
      ['SUCCEEDED', 'PENDING'],
      ['SUCCEEDED', 'NONE'],
      ['SUCCEEDED', 'PENDING'],
      ['RUNNING', 'PENDING'],
    ]);
    const plan = planCompletion(run, { stepIndex: 3, kind: 'action' }, 1, failed);
    expect(plan.run).toEqual({
      status: 'COMPENSATING',
      error: { code: 'STEP_FAILED', message: 'answered 422', stepId: 's3' },
    });
    expect(plan.item).toEqual({ type: 'move', next: { stepIndex: 2, kind: 'compensation', dueAt: null } });
  });

  it.each([
    ['TEMPLATE_ERROR', 'TEMPLATE_ERROR'],
    ['DELIVERY_EXHAUSTED', 'DELIVERY_EXHAUSTED'],
    ['HTTP_ERROR', 'STEP_FAILED'],
  ])('a permanent failure coded %s gives the run error %s', (code, runCode) => {
    const plan = planCompletion(snapshot('RUNNING', [['RUNNING', 'NONE']]), { stepIndex: 0, kind: 'action' }, 1, {
      outcome: 'FAILED',
      error: { code, message: 'm' },
    });
    expect(plan.run?.error).toEqual({ code: runCode, message: 'm', stepId: 's0' });
  });

  it('a parked action (poison) fails the run with DELIVERY_EXHAUSTED and parks the item', () => {
    const error = { code: 'DELIVERY_EXHAUSTED', message: 'delivered 6 times' };
    const plan = planCompletion(
      snapshot('RUNNING', [['RUNNING', 'NONE']]),
      { stepIndex: 0, kind: 'action' },
      undefined,
      { outcome: 'FAILED', park: true, error },
    );
    expect(plan.run).toEqual({ status: 'FAILED', error: { ...error, stepId: 's0' } });
    expect(plan.item).toEqual({ type: 'park', lastError: error, poison: true });
  });

  it('a parked action with compensable steps parks the item and enqueues the compensation', () => {
    const error = { code: 'DELIVERY_EXHAUSTED', message: 'delivered 6 times' };
    const run = snapshot('RUNNING', [
      ['SUCCEEDED', 'PENDING'],
      ['RUNNING', 'NONE'],
    ]);
    const plan = planCompletion(run, { stepIndex: 1, kind: 'action' }, undefined, {
      outcome: 'FAILED',
      park: true,
      error,
    });
    expect(plan.run).toEqual({ status: 'COMPENSATING', error: { ...error, stepId: 's1' } });
    expect(plan.item).toEqual({
      type: 'park',
      lastError: error,
      poison: true,
      next: { stepIndex: 0, kind: 'compensation', dueAt: null },
    });
  });
});

describe('planCompletion: compensations', () => {
  it('a success moves on to the next compensation below', () => {
    const run = snapshot('COMPENSATING', [
      ['SUCCEEDED', 'PENDING'],
      ['SUCCEEDED', 'RUNNING'],
      ['FAILED', 'PENDING'],
    ]);
    const plan = planCompletion(run, { stepIndex: 1, kind: 'compensation' }, 1, succeeded);
    expect(plan.steps).toEqual([
      {
        index: 1,
        compensationStatus: 'COMPENSATED',
        compensationError: null,
        compensated: true,
        compensationAttempts: 1,
      },
    ]);
    expect(plan.run).toEqual({ status: 'COMPENSATING', error: undefined });
    expect(plan.item).toEqual({ type: 'move', next: { stepIndex: 0, kind: 'compensation', dueAt: null } });
  });

  it('the last success ends COMPENSATED and keeps the run error', () => {
    const run = snapshot('COMPENSATING', [
      ['SUCCEEDED', 'RUNNING'],
      ['SUCCEEDED', 'COMPENSATED'],
      ['FAILED', 'PENDING'],
    ]);
    const plan = planCompletion(run, { stepIndex: 0, kind: 'compensation' }, 3, succeeded);
    expect(plan.run?.status).toBe('COMPENSATED');
    // undefined keeps the STEP_FAILED error set when the step failed
    expect(plan.run?.error).toBeUndefined();
    expect(plan.item).toEqual({ type: 'delete' });
  });

  it('the last success of a cancelled run ends CANCELLED', () => {
    const run = snapshot(
      'CANCELLING',
      [
        ['SUCCEEDED', 'RUNNING'],
        ['SKIPPED', 'PENDING'],
      ],
      true,
    );
    const plan = planCompletion(run, { stepIndex: 0, kind: 'compensation' }, 1, succeeded);
    expect(plan.run).toEqual({ status: 'CANCELLED', error: CANCELLED_ERROR });
    expect(plan.item).toEqual({ type: 'delete' });
  });

  it('a retryable failure moves the compensation to its retry time', () => {
    const run = snapshot('COMPENSATING', [
      ['SUCCEEDED', 'RUNNING'],
      ['FAILED', 'NONE'],
    ]);
    const plan = planCompletion(run, { stepIndex: 0, kind: 'compensation' }, 2, retryable);
    expect(plan.steps).toEqual([
      { index: 0, compensationError: { code: 'HTTP_ERROR', message: 'answered 503' }, compensationAttempts: 2 },
    ]);
    expect(plan.run).toBeUndefined();
    expect(plan.item).toEqual({ type: 'move', next: { stepIndex: 0, kind: 'compensation', dueAt: retryAt } });
  });

  it.each(['COMPENSATING', 'CANCELLING'] as const)(
    'a permanent failure while %s fails the run with COMPENSATION_FAILED and parks the item',
    (status) => {
      const run = snapshot(
        status,
        [
          ['SUCCEEDED', 'RUNNING'],
          ['FAILED', 'NONE'],
        ],
        status === 'CANCELLING',
      );
      const plan = planCompletion(run, { stepIndex: 0, kind: 'compensation' }, 10, failed);
      expect(plan.steps).toEqual([
        {
          index: 0,
          compensationStatus: 'FAILED',
          compensationError: { code: 'STEP_FAILED', message: 'answered 422' },
          compensationAttempts: 10,
        },
      ]);
      expect(plan.run).toEqual({
        status: 'FAILED',
        error: { code: 'COMPENSATION_FAILED', message: 'answered 422', stepId: 's0' },
      });
      // parked for redrive, not poison: no DELIVERY_PARKED (SPEC §12 keeps that event for §7's parking)
      expect(plan.item).toEqual({
        type: 'park',
        lastError: { code: 'STEP_FAILED', message: 'answered 422' },
        poison: false,
      });
    },
  );
});

describe('planCancel', () => {
  it.each(['CANCELLING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED'] as const)(
    'refuses a %s run',
    (status) => {
      const decision = planCancel(snapshot(status, [['SUCCEEDED', 'NONE']]), undefined);
      expect(decision).toEqual({ ok: false, reason: expect.stringContaining(status) });
    },
  );

  it('a leased item in flight: the run goes CANCELLING and the item is kept for its engine to finish', () => {
    const decision = planCancel(
      snapshot('RUNNING', [
        ['SUCCEEDED', 'PENDING'],
        ['RUNNING', 'PENDING'],
      ]),
      { stepIndex: 1, kind: 'action', leased: true },
    );
    expect(decision).toEqual({
      ok: true,
      plan: {
        steps: [],
        skipPending: false,
        unskip: false,
        run: { status: 'CANCELLING', error: CANCELLED_ERROR },
        cancel: true,
        item: { type: 'keep' },
      },
    });
  });

  it('a PENDING run whose first item is not taken is cancelled at once, all steps skipped', () => {
    const decision = planCancel(
      snapshot('PENDING', [
        ['PENDING', 'PENDING'],
        ['PENDING', 'NONE'],
      ]),
      { stepIndex: 0, kind: 'action', leased: false },
    );
    expect(decision).toEqual({
      ok: true,
      plan: {
        steps: [],
        skipPending: true,
        unskip: false,
        run: { status: 'CANCELLED', error: CANCELLED_ERROR },
        cancel: true,
        item: { type: 'delete' },
      },
    });
  });

  it('a step waiting for its retry is failed as cancelled and the succeeded steps are compensated', () => {
    const run = snapshot('RUNNING', [
      ['SUCCEEDED', 'PENDING'],
      ['RUNNING', 'PENDING'],
      ['PENDING', 'NONE'],
    ]);
    const decision = planCancel(run, { stepIndex: 1, kind: 'action', leased: false });
    if (!decision.ok) throw new Error(decision.reason);
    expect(decision.plan.steps).toEqual([
      {
        index: 1,
        status: 'FAILED',
        error: { code: 'CANCELLED', message: 'run cancelled before the step succeeded' },
        finished: true,
      },
    ]);
    expect(decision.plan.skipPending).toBe(true);
    expect(decision.plan.run).toEqual({ status: 'CANCELLING', error: CANCELLED_ERROR });
    expect(decision.plan.item).toEqual({ type: 'move', next: { stepIndex: 0, kind: 'compensation', dueAt: null } });
  });

  it('a next step not yet taken is withdrawn and unwinding starts below it', () => {
    const run = snapshot('RUNNING', [
      ['SUCCEEDED', 'PENDING'],
      ['SUCCEEDED', 'PENDING'],
      ['PENDING', 'PENDING'],
    ]);
    const decision = planCancel(run, { stepIndex: 2, kind: 'action', leased: false });
    if (!decision.ok) throw new Error(decision.reason);
    expect(decision.plan.steps).toEqual([]);
    expect(decision.plan.item).toEqual({ type: 'move', next: { stepIndex: 1, kind: 'compensation', dueAt: null } });
  });

  it('with no live item at all every succeeded step is considered', () => {
    const run = snapshot('RUNNING', [
      ['SUCCEEDED', 'PENDING'],
      ['SUCCEEDED', 'NONE'],
    ]);
    const decision = planCancel(run, undefined);
    if (!decision.ok) throw new Error(decision.reason);
    expect(decision.plan.run?.status).toBe('CANCELLING');
    expect(decision.plan.item).toEqual({ type: 'move', next: { stepIndex: 0, kind: 'compensation', dueAt: null } });
  });
});

describe('planRetry', () => {
  const failedRun = (rows: StepRow[], error: RunError | null, cancelRequested = false) => ({
    ...snapshot('FAILED', rows, cancelRequested),
    error,
  });
  const stepFailed: RunError = { code: 'STEP_FAILED', message: 'answered 422', stepId: 's1' };

  it('refuses an unknown step', () => {
    expect(planRetry(failedRun([['FAILED', 'NONE']], stepFailed), 5)).toEqual({ ok: false, reason: 'unknown step' });
  });

  it.each(['PENDING', 'RUNNING', 'COMPENSATING', 'CANCELLING', 'COMPLETED', 'COMPENSATED', 'CANCELLED'] as const)(
    'refuses a %s run',
    (status) => {
      const decision = planRetry({ ...snapshot(status, [['FAILED', 'NONE']]), error: stepFailed }, 0);
      expect(decision).toEqual({ ok: false, reason: expect.stringContaining(`run is ${status}`) });
    },
  );

  it.each(['STEP_FAILED', 'DELIVERY_EXHAUSTED', 'TEMPLATE_ERROR'] as const)(
    'a forward retry after %s: the step runs again and the run goes RUNNING',
    (code) => {
      const run = failedRun(
        [
          ['SUCCEEDED', 'PENDING'],
          ['FAILED', 'NONE', { code, message: 'x' }],
          ['SKIPPED', 'NONE'],
        ],
        { code, message: 'x', stepId: 's1' },
      );
      const decision = planRetry(run, 1);
      expect(decision).toEqual({
        ok: true,
        plan: {
          steps: [{ index: 1, status: 'PENDING', error: null, resetAttemptBudget: true }],
          skipPending: false,
          unskip: true,
          run: { status: 'RUNNING', error: null },
          resolveParked: true,
          item: { type: 'move', next: { stepIndex: 1, kind: 'action', dueAt: null } },
        },
      });
    },
  );

  it('refuses a forward retry when the run has compensated steps', () => {
    const run = failedRun(
      [
        ['SUCCEEDED', 'COMPENSATED'],
        ['FAILED', 'NONE', { code: 'STEP_FAILED', message: 'x' }],
      ],
      stepFailed,
    );
    expect(planRetry(run, 1)).toEqual({ ok: false, reason: expect.stringContaining('already compensated') });
  });

  it('refuses a forward retry of a cancelled run', () => {
    const run = failedRun(
      [['FAILED', 'NONE', { code: 'CANCELLED', message: 'x' }]],
      { code: 'STEP_FAILED', message: 'x', stepId: 's0' },
      true,
    );
    expect(planRetry(run, 0)).toEqual({ ok: false, reason: expect.stringContaining('no cancel') });
  });

  it('refuses a forward retry when the run failed for its compensation', () => {
    const run = failedRun(
      [
        ['SUCCEEDED', 'FAILED'],
        ['FAILED', 'NONE', { code: 'STEP_FAILED', message: 'x' }],
      ],
      { code: 'COMPENSATION_FAILED', message: 'x', stepId: 's0' },
    );
    expect(planRetry(run, 1)).toEqual({ ok: false, reason: expect.stringContaining('COMPENSATION_FAILED') });
  });

  it('a compensation retry resumes unwinding and restores the forward failure as the run error', () => {
    const run = failedRun(
      [
        ['SUCCEEDED', 'FAILED'],
        ['FAILED', 'NONE', { code: 'TEMPLATE_ERROR', message: 'missing path' }],
      ],
      { code: 'COMPENSATION_FAILED', message: 'answered 500', stepId: 's0' },
    );
    expect(planRetry(run, 0)).toEqual({
      ok: true,
      plan: {
        steps: [{ index: 0, compensationStatus: 'PENDING', compensationError: null, resetCompensationBudget: true }],
        skipPending: false,
        unskip: false,
        run: { status: 'COMPENSATING', error: { code: 'TEMPLATE_ERROR', message: 'missing path', stepId: 's1' } },
        resolveParked: true,
        item: { type: 'move', next: { stepIndex: 0, kind: 'compensation', dueAt: null } },
      },
    });
  });

  it('a compensation retry maps an unknown forward code to STEP_FAILED', () => {
    const run = failedRun(
      [
        ['SUCCEEDED', 'FAILED'],
        ['FAILED', 'NONE', { code: 'HTTP_ERROR', message: 'answered 422' }],
      ],
      {
        code: 'COMPENSATION_FAILED',
        message: 'm',
        stepId: 's0',
      },
    );
    const decision = planRetry(run, 0);
    if (!decision.ok) throw new Error(decision.reason);
    expect(decision.plan.run?.error).toEqual({ code: 'STEP_FAILED', message: 'answered 422', stepId: 's1' });
  });

  it('a compensation retry without a forward failure uses a generic STEP_FAILED', () => {
    const run = failedRun([['SUCCEEDED', 'FAILED']], { code: 'COMPENSATION_FAILED', message: 'm', stepId: 's0' });
    const decision = planRetry(run, 0);
    if (!decision.ok) throw new Error(decision.reason);
    expect(decision.plan.run?.error).toEqual({ code: 'STEP_FAILED', message: 'step failed' });
  });

  it('a compensation retry of a cancelled run resumes CANCELLING', () => {
    const run = failedRun(
      [
        ['SUCCEEDED', 'FAILED'],
        ['FAILED', 'NONE', { code: 'CANCELLED', message: 'c' }],
      ],
      { code: 'COMPENSATION_FAILED', message: 'm', stepId: 's0' },
      true,
    );
    const decision = planRetry(run, 0);
    if (!decision.ok) throw new Error(decision.reason);
    expect(decision.plan.run).toEqual({ status: 'CANCELLING', error: CANCELLED_ERROR });
  });

  it('refuses a compensation retry when the run error is not COMPENSATION_FAILED', () => {
    const run = failedRun([['SUCCEEDED', 'FAILED']], stepFailed);
    expect(planRetry(run, 0)).toEqual({ ok: false, reason: expect.stringContaining('not COMPENSATION_FAILED') });
  });

  it('refuses a step that neither failed nor failed its compensation', () => {
    const run = failedRun(
      [
        ['SUCCEEDED', 'PENDING'],
        ['FAILED', 'NONE', { code: 'STEP_FAILED', message: 'x' }],
      ],
      stepFailed,
    );
    expect(planRetry(run, 0)).toEqual({
      ok: false,
      reason: expect.stringContaining('only a FAILED action or a FAILED compensation'),
    });
  });
});

describe('plans only make legal run moves', () => {
  it('an illegal move throws IllegalTransitionError instead of producing a plan', () => {
    // a compensation result on a RUNNING run would have to move RUNNING -> COMPENSATED, which the table forbids
    const run = snapshot('RUNNING', [
      ['SUCCEEDED', 'RUNNING'],
      ['RUNNING', 'NONE'],
    ]);
    expect(() => planCompletion(run, { stepIndex: 0, kind: 'compensation' }, 1, succeeded)).toThrow(
      IllegalTransitionError,
    );
  });
});
