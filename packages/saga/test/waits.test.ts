import { describe, expect, it } from 'vitest';
import { planCancel, planCompletion, planSignal, rowWrites, type ReceivedSignal, type StepWait } from '../src/index.js';
import { runState } from './run-state.js';

/** The pure half of durable waits (docs/contract.md#durable-waits): plans and the writes and history they make. */

const until = new Date('2030-01-02T00:00:00Z');
const signalWait: StepWait = { for: 'signal', until, signal: 'approval' };
const item = { id: '7', stepIndex: 1, kind: 'action' as const, leaseToken: 'lease-1' };
const signal: ReceivedSignal = {
  signalId: 'sig-1',
  name: 'approval',
  payload: { ok: true },
  idempotencyKey: null,
  requestHash: null,
};

/** s0 succeeded, s1 (the wait) RUNNING, s2 pending. */
function waitingRun(wait: StepWait | null) {
  const run = runState('RUNNING', [
    ['SUCCEEDED', 'PENDING'],
    ['RUNNING', 'NONE'],
    ['PENDING', 'NONE'],
  ]);
  run.steps[1]!.wait = wait;
  return run;
}

describe('a wait begins', () => {
  it('sets the wait, moves the item to its due time unleased, wakes on a signal of its name, and appends STEP_WAITING', () => {
    const run = waitingRun(null);
    const plan = planCompletion(run, item, undefined, { outcome: 'WAITING', wait: signalWait, began: true });
    const writes = rowWrites(run, plan, {
      item,
      result: { outcome: 'WAITING', wait: signalWait, began: true },
      carry: { owner: 'e', leaseMs: 1000, leaseToken: 'lease-2' },
    });
    expect(writes.steps).toEqual([expect.objectContaining({ stepIndex: 1, status: 'RUNNING', wait: signalWait })]);
    expect(writes.outbox).toEqual([
      expect.objectContaining({
        op: 'update',
        stepIndex: 1,
        dueAt: until,
        lease: null,
        wakeOnSignal: 'approval',
        deliveries: 0,
      }),
    ]);
    expect(writes.carried).toBeUndefined();
    expect(writes.attempts).toEqual([]);
    expect(writes.events.map((e) => [e.type, e.stepId, e.data])).toEqual([
      ['STEP_WAITING', 's1', { waitFor: 'signal', until: until.toISOString() }],
    ]);
  });

  it('waiting on (delivered early) writes no event and changes no step', () => {
    const run = waitingRun(signalWait);
    const result = { outcome: 'WAITING' as const, wait: signalWait, began: false };
    const writes = rowWrites(run, planCompletion(run, item, undefined, result), { item, result });
    expect(writes.events).toEqual([]);
    expect(writes.steps).toEqual([]);
    expect(writes.outbox[0]).toMatchObject({ op: 'update', dueAt: until });
  });

  it('a wait under a cancel request fails the step as CANCELLED and unwinds', () => {
    const run = { ...waitingRun(null), cancelRequested: true, status: 'CANCELLING' as const };
    const plan = planCompletion(run, item, undefined, { outcome: 'WAITING', wait: signalWait, began: true });
    expect(plan.steps[0]).toMatchObject({ index: 1, status: 'FAILED', error: { code: 'CANCELLED' } });
    expect(plan.item).toEqual({ type: 'move', next: { stepIndex: 0, kind: 'compensation', dueAt: null } });
  });
});

describe('a wait ends', () => {
  it('woken by a signal: consumes it, clears the wait, STEP_WOKEN before what follows', () => {
    const run = waitingRun(signalWait);
    const result = {
      outcome: 'SUCCEEDED' as const,
      output: { ok: true },
      woken: { wait: signalWait, began: false, cause: 'signal' as const, signalId: 'sig-1' },
    };
    const plan = planCompletion(run, item, undefined, result);
    expect(plan.consumeSignal).toEqual({ signalId: 'sig-1', stepIndex: 1 });
    const writes = rowWrites(run, plan, { item, result });
    expect(writes.guard.unconsumedSignal).toBe('sig-1');
    expect(writes.signals).toEqual([{ op: 'consume', id: 'sig-1', runId: run.runId, stepId: 's1' }]);
    expect(writes.steps[0]).toMatchObject({ status: 'SUCCEEDED', wait: null, setOutput: true, output: { ok: true } });
    expect(writes.events.map((e) => e.type)).toEqual(['STEP_WOKEN']);
  });

  it('a timeout that fails: SIGNAL_TIMEOUT on the step, STEP_FAILED on the run, STEP_WOKEN before the status change', () => {
    const run = waitingRun(signalWait);
    const result = {
      outcome: 'FAILED' as const,
      error: { code: 'SIGNAL_TIMEOUT', message: 'no "approval" signal within 10 ms' },
      woken: { wait: signalWait, began: false, cause: 'timeout' as const, signalId: null },
    };
    const plan = planCompletion(run, item, undefined, result);
    expect(plan.run).toEqual({
      status: 'COMPENSATING',
      error: { code: 'STEP_FAILED', message: 'no "approval" signal within 10 ms', stepId: 's1' },
    });
    const writes = rowWrites(run, plan, { item, result });
    expect(writes.events.map((e) => e.type)).toEqual(['STEP_WOKEN', 'RUN_STATUS_CHANGED']);
    expect(writes.signals).toEqual([]);
    expect(writes.steps[0]).toMatchObject({ status: 'FAILED', wait: null });
  });

  it('one that ends as it begins writes STEP_WAITING then STEP_WOKEN', () => {
    const run = waitingRun(null);
    const wait: StepWait = { for: 'sleep', until: new Date('2020-01-01T00:00:00Z'), signal: null };
    const result = {
      outcome: 'SUCCEEDED' as const,
      output: { sleptUntil: wait.until.toISOString() },
      woken: { wait, began: true, cause: 'timer' as const, signalId: null },
    };
    const writes = rowWrites(run, planCompletion(run, item, undefined, result), { item, result });
    expect(writes.events.map((e) => [e.type, e.data])).toEqual([
      ['STEP_WAITING', { waitFor: 'sleep', until: '2020-01-01T00:00:00.000Z' }],
      ['STEP_WOKEN', { cause: 'timer', signalId: null }],
    ]);
  });

  it('a cancel of a waiting run clears the wait with the step', () => {
    const run = waitingRun(signalWait);
    const decision = planCancel(run, { stepIndex: 1, kind: 'action', leased: false });
    if (!decision.ok) throw new Error(decision.reason);
    const writes = rowWrites(run, decision.plan, { item: { ...item, leaseToken: null } });
    expect(writes.steps.find((s) => s.stepIndex === 1)).toMatchObject({ status: 'FAILED', wait: null });
  });
});

describe('planSignal', () => {
  it('stores the signal and makes the live item due now when it waits for this name', () => {
    const run = waitingRun(signalWait);
    const decision = planSignal(run, signal, { stepIndex: 1, kind: 'action' });
    if (!decision.ok) throw new Error(decision.reason);
    expect(decision.plan.item).toEqual({ type: 'move', next: { stepIndex: 1, kind: 'action', dueAt: null } });
    const writes = rowWrites(run, decision.plan, { item: { ...item, leaseToken: null } });
    expect(writes.signals).toEqual([
      {
        op: 'insert',
        id: 'sig-1',
        runId: run.runId,
        name: 'approval',
        payload: { ok: true },
        idempotencyKey: null,
        requestHash: null,
      },
    ]);
    expect(writes.wake).toBe(true);
    expect(writes.events.map((e) => [e.type, e.data])).toEqual([
      ['SIGNAL_RECEIVED', { name: 'approval', signalId: 'sig-1' }],
    ]);
    expect(writes.run).toMatchObject({ changed: false, eventSeq: run.eventSeq + 1 });
  });

  it('only stores it (mailbox) when the run waits for another name, or not yet, or its item is leased', () => {
    for (const [wait, live] of [
      [
        { ...signalWait, signal: 'other' },
        { stepIndex: 1, kind: 'action' as const },
      ],
      [null, { stepIndex: 1, kind: 'action' as const }],
      [signalWait, undefined],
    ] as const) {
      const decision = planSignal(waitingRun(wait), signal, live);
      expect(decision.ok && decision.plan.item).toEqual({ type: 'keep' });
    }
  });

  it('refuses a terminal run', () => {
    const decision = planSignal(runState('COMPLETED', [['SUCCEEDED', 'NONE']]), signal, undefined);
    expect(decision).toEqual({ ok: false, reason: 'run is COMPLETED; a terminal run takes no signals' });
  });
});
