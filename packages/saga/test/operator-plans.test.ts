import { describe, expect, it } from 'vitest';
import {
  planCancel,
  planCompletion,
  planPause,
  planRedrive,
  planResume,
  rowWrites,
  type RunError,
} from '../src/index.js';
import { runState } from './run-state.js';

/** docs/contract.md#redrive and #pause: the pure decisions, and the rows a paused run's changes write. */

const stepFailed: RunError = { code: 'STEP_FAILED', message: 'answered 422', stepId: 's1' };
const compensationFailed: RunError = { code: 'COMPENSATION_FAILED', message: 'refund refused', stepId: 's0' };

describe('planRedrive', () => {
  it('a forward failure: the step the run error names, as an action', () => {
    const run = {
      ...runState('FAILED', [
        ['SUCCEEDED', 'NONE'],
        ['FAILED', 'NONE', { code: 'STEP_FAILED', message: 'answered 422' }],
        ['SKIPPED', 'NONE'],
      ]),
      error: stepFailed,
    };
    const decision = planRedrive(run);
    expect(decision.ok && decision.plan.target).toEqual({ stepIndex: 1, kind: 'action' });
    expect(decision.ok && decision.plan.plan.run).toEqual({ status: 'RUNNING', error: null });
  });

  it('COMPENSATION_FAILED: the failed compensation', () => {
    const run = {
      ...runState('FAILED', [
        ['SUCCEEDED', 'FAILED'],
        ['FAILED', 'NONE', { code: 'STEP_FAILED', message: 'answered 422' }],
      ]),
      error: compensationFailed,
    };
    const decision = planRedrive(run);
    expect(decision.ok && decision.plan.target).toEqual({ stepIndex: 0, kind: 'compensation' });
    expect(decision.ok && decision.plan.plan.run?.status).toBe('COMPENSATING');
  });

  it.each([
    ['RUNNING', 'it has not finished'],
    ['COMPLETED', 'it did not fail'],
    ['COMPENSATED', 'its failure was compensated'],
  ] as const)('refuses a %s run with the reason', (status, why) => {
    const decision = planRedrive(runState(status, [['SUCCEEDED', 'NONE']]));
    expect(decision).toEqual({ ok: false, reason: `run is ${status} (${why}); only FAILED runs can be redriven` });
  });

  it("refuses what retry-step refuses: a forward retry after compensations ran, a cancelled run's step", () => {
    const unwound = {
      ...runState('FAILED', [
        ['SUCCEEDED', 'COMPENSATED'],
        ['FAILED', 'NONE', { code: 'STEP_FAILED', message: 'x' }],
      ]),
      error: { ...stepFailed, code: 'DELIVERY_EXHAUSTED' as const },
    };
    expect(planRedrive(unwound)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('compensated') as unknown,
    });
  });
});

describe('planPause and planResume', () => {
  const running = runState('RUNNING', [
    ['SUCCEEDED', 'NONE'],
    ['PENDING', 'NONE'],
  ]);

  it('pause sets the flag and holds the live item; resume clears it and releases the item (with a wake-up)', () => {
    const pause = planPause(running);
    expect(pause.ok).toBe(true);
    if (!pause.ok) return;
    const paused = rowWrites(running, pause.plan, { operator: { action: 'pause', reason: null, operationId: null } });
    expect(paused.outbox).toEqual([{ op: 'hold', runId: running.runId }]);
    expect(paused.run).toMatchObject({ status: 'RUNNING', changed: true, pausedAt: 'now' });
    expect(paused.after.paused).toBe(true);
    expect(paused.events.map((e) => [e.type, e.data['action']])).toEqual([['OPERATOR_ACTION', 'pause']]);
    expect(paused.wake).toBe(false);

    const resume = planResume(paused.after);
    expect(resume.ok).toBe(true);
    if (!resume.ok) return;
    const resumed = rowWrites(paused.after, resume.plan, {});
    expect(resumed.outbox).toEqual([{ op: 'release', runId: running.runId }]);
    expect(resumed.run).toMatchObject({ pausedAt: 'clear' });
    expect(resumed.wake).toBe(true);
  });

  it('no-ops and refusals', () => {
    expect(planPause({ ...running, paused: true })).toEqual({ ok: false, noop: true, reason: 'run is already paused' });
    expect(planResume(running)).toEqual({ ok: false, noop: true, reason: 'run is not paused' });
    expect(planPause(runState('COMPLETED', [['SUCCEEDED', 'NONE']]))).toMatchObject({ ok: false, noop: false });
    expect(planPause(runState('CANCELLING', [['SUCCEEDED', 'PENDING']], true))).toMatchObject({
      ok: false,
      noop: false,
      reason: 'run is being cancelled; cancel wins over pause',
    });
  });

  it("a resumed run of a paused workflow releases nothing: the workflow's pause still holds it", () => {
    const run = { ...running, paused: true, workflowPaused: true };
    const resume = planResume(run);
    if (!resume.ok) throw new Error('expected a resume');
    const writes = rowWrites(run, resume.plan, {});
    expect(writes.outbox).toEqual([]);
    expect(writes.after.paused).toBe(false);
  });

  it('a completion of a paused run holds the next item and never carries it on', () => {
    const run = {
      ...running,
      paused: true,
      steps: running.steps.map((s, i) => (i === 1 ? { ...s, status: 'RUNNING' as const } : s)),
    };
    const grown = {
      ...run,
      steps: [...run.steps, { ...run.steps[1]!, index: 2, stepId: 's2', status: 'PENDING' as const }],
    };
    const item = { id: '9', stepIndex: 1, kind: 'action' as const, leaseToken: 'held' };
    const plan = planCompletion(grown, item, 1, { outcome: 'SUCCEEDED', output: {} });
    const writes = rowWrites(grown, plan, { item, carry: { owner: 'e', leaseMs: 1000, leaseToken: 'next' } });
    expect(writes.carried).toBeUndefined();
    expect(writes.wake).toBe(false);
    expect(writes.outbox).toEqual([
      expect.objectContaining({ op: 'update', id: '9', stepIndex: 2, held: true, lease: null }),
    ]);
  });

  it('the last completion of a paused run makes it terminal and unpaused', () => {
    const run = { ...runState('RUNNING', [['RUNNING', 'NONE']]), paused: true };
    const item = { id: '9', stepIndex: 0, kind: 'action' as const, leaseToken: 'held' };
    const writes = rowWrites(run, planCompletion(run, item, 1, { outcome: 'SUCCEEDED', output: {} }), { item });
    expect(writes.after).toMatchObject({ status: 'COMPLETED', paused: false });
    expect(writes.run).toMatchObject({ terminal: true, pausedAt: 'clear' });
  });

  it('cancel of a paused run unpauses it, and the withdrawn item is due (not held)', () => {
    const run = {
      ...runState('RUNNING', [
        ['SUCCEEDED', 'PENDING'],
        ['PENDING', 'NONE'],
      ]),
      paused: true,
    };
    const decision = planCancel(run, { stepIndex: 1, kind: 'action', leased: false });
    if (!decision.ok) throw new Error(decision.reason);
    expect(decision.plan.pause).toBe(false);
    const item = { id: '3', stepIndex: 1, kind: 'action' as const, leaseToken: null };
    const writes = rowWrites(run, decision.plan, { item });
    expect(writes.after).toMatchObject({ status: 'CANCELLING', paused: false });
    expect(writes.outbox).toEqual([
      expect.objectContaining({ op: 'update', stepIndex: 0, kind: 'compensation', held: false }),
    ]);
  });
});
