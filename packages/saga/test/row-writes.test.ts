import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, planCompletion, planRetry, rowWrites, type Plan } from '../src/index.js';
import { runState } from './run-state.js';

/** The explicit rows rowWrites asks for (their effect on the state is in row-writes-after.test.ts). */

const item = { id: '7', stepIndex: 1, kind: 'action' as const, leaseToken: 'held' };

describe('rowWrites', () => {
  it('refuses a plan that leaves the state machine, naming the move', () => {
    const run = runState('RUNNING', [
      ['SUCCEEDED', 'NONE'],
      ['RUNNING', 'NONE'],
    ]);
    const plan: Plan = {
      steps: [{ index: 0, status: 'FAILED' }],
      skipPending: false,
      unskip: false,
      item: { type: 'keep' },
    };
    expect(() => rowWrites(run, plan)).toThrow(IllegalTransitionError);
    expect(() => rowWrites(run, plan)).toThrow('illegal step transition SUCCEEDED -> FAILED');
    const compensation: Plan = { ...plan, steps: [{ index: 1, compensationStatus: 'COMPENSATED' }] };
    expect(() => rowWrites(run, compensation)).toThrow('illegal compensation transition NONE -> COMPENSATED');
  });

  it('a success carried on: the step row in full, the item leased on under the minted token, the next step started', () => {
    const run = runState('RUNNING', [
      ['SUCCEEDED', 'PENDING'],
      ['RUNNING', 'NONE'],
      ['PENDING', 'NONE'],
    ]);
    const plan = planCompletion(run, item, 1, { outcome: 'SUCCEEDED', output: { ok: true } });
    const startedAt = new Date('2030-01-01T00:00:00Z');
    const attempt = {
      attemptNo: 1,
      outcome: 'SUCCEEDED' as const,
      httpStatus: 200,
      error: null,
      startedAt,
      finishedAt: new Date(startedAt.getTime() + 40),
    };
    const writes = rowWrites(run, plan, {
      item,
      attempt,
      carry: { owner: 'e', leaseMs: 500, leaseToken: 'next' },
    });
    expect(writes.guard).toEqual({
      runId: run.runId,
      status: 'RUNNING',
      cancelRequested: false,
      paused: false,
      workflowPaused: false,
      eventSeq: 2,
      itemId: '7',
      leaseToken: 'held',
      unconsumedSignal: null,
    });
    // the attempt is history: the run row only advances its last seq
    expect(writes.run).toEqual({
      runId: run.runId,
      status: 'RUNNING',
      error: null,
      changed: false,
      terminal: false,
      cancel: false,
      pausedAt: 'keep',
      eventSeq: 3,
    });
    expect(writes.events).toEqual([
      {
        runId: run.runId,
        seq: 3,
        type: 'ATTEMPT_FINISHED',
        stepId: 's1',
        kind: 'action',
        attempt: 1,
        data: {
          outcome: 'SUCCEEDED',
          httpStatus: 200,
          startedAt: '2030-01-01T00:00:00.000Z',
          durationMs: 40,
          error: null,
          nextAttemptAt: null,
          stepStatus: 'SUCCEEDED',
          compensationStatus: 'NONE',
        },
      },
    ]);
    expect(writes.after.eventSeq).toBe(3);
    expect(writes.steps).toEqual([
      expect.objectContaining({
        stepIndex: 1,
        status: 'SUCCEEDED',
        attempts: 1,
        setOutput: true,
        output: { ok: true },
      }),
      expect.objectContaining({ stepIndex: 2, status: 'RUNNING', started: true, finishedAt: 'keep' }),
    ]);
    expect(writes.outbox).toEqual([
      expect.objectContaining({ op: 'update', id: '7', stepIndex: 2, status: 'READY', deliveries: 1 }),
    ]);
    expect(writes.outbox[0]).toMatchObject({ lease: { owner: 'e', token: 'next', ms: 500 } });
    expect(writes.carried).toEqual({ stepIndex: 2, kind: 'action', leaseToken: 'next' });
    expect(writes.wake).toBe(false);
  });

  it('parking: the held item is left DEAD with its error and due time, its successor inserted due now', () => {
    const run = runState('RUNNING', [
      ['SUCCEEDED', 'PENDING'],
      ['RUNNING', 'NONE'],
    ]);
    const error = { code: 'DELIVERY_EXHAUSTED', message: 'parked' };
    const plan = planCompletion(run, item, undefined, { outcome: 'FAILED', park: true, error });
    const writes = rowWrites(run, plan, { item });
    expect(writes.outbox).toEqual([
      expect.objectContaining({ op: 'update', id: '7', stepIndex: 1, status: 'DEAD', keepDue: true, lastError: error }),
      { op: 'insert', runId: run.runId, stepIndex: 0, kind: 'compensation', dueAt: null, held: false },
    ]);
    expect(writes.run).toMatchObject({ status: 'COMPENSATING', terminal: false, cancel: false });
    expect(writes.attempts).toEqual([]);
    expect(writes.wake).toBe(true);
  });

  it.each([
    ['used up its attempts', { outcome: 'FAILED', error: { code: 'STEP_FAILED', message: 'answered 500' } }, []],
    [
      'ran out of deliveries',
      { outcome: 'FAILED', park: true, error: { code: 'DELIVERY_EXHAUSTED', message: 'parked' } },
      ['DELIVERY_PARKED'],
    ],
  ] as const)(
    'a compensation that %s is parked DEAD; only §7 parking is a DELIVERY_PARKED event',
    (_, result, parked) => {
      const run = runState('COMPENSATING', [
        ['SUCCEEDED', 'RUNNING'],
        ['FAILED', 'NONE'],
      ]);
      const held = { ...item, stepIndex: 0, kind: 'compensation' as const };
      const plan = planCompletion(run, held, undefined, result);
      const writes = rowWrites(run, plan, { item: held });
      expect(writes.outbox).toEqual([expect.objectContaining({ op: 'update', id: '7', status: 'DEAD' })]);
      expect(writes.events.map((e) => e.type)).toEqual([...parked, 'RUN_STATUS_CHANGED']);
      expect(writes.run).toMatchObject({ status: 'FAILED', terminal: true });
    },
  );

  it('an operator retry: budget reset and un-skipping are plain column values, parked items resolved', () => {
    const run = {
      ...runState('FAILED', [
        ['SUCCEEDED', 'NONE'],
        ['FAILED', 'NONE', { code: 'STEP_FAILED', message: 'x' }],
        ['SKIPPED', 'NONE'],
      ]),
      error: { code: 'STEP_FAILED' as const, message: 'x', stepId: 's1' },
    };
    run.steps[1] = { ...run.steps[1]!, attempts: 3, attemptsBeforeRetry: 0 };
    const decision = planRetry(run, 1);
    if (!decision.ok) throw new Error(decision.reason);
    const writes = rowWrites(run, decision.plan);
    expect(writes.guard).toMatchObject({ status: 'FAILED', eventSeq: 2, itemId: null, leaseToken: null });
    expect(writes.steps).toEqual([
      expect.objectContaining({
        stepIndex: 1,
        status: 'PENDING',
        attempts: 3,
        attemptsBeforeRetry: 3,
        error: null,
        finishedAt: 'clear',
      }),
      expect.objectContaining({ stepIndex: 2, status: 'PENDING', finishedAt: 'keep' }),
    ]);
    expect(writes.run).toEqual({
      runId: run.runId,
      status: 'RUNNING',
      error: null,
      changed: true,
      terminal: false,
      cancel: false,
      pausedAt: 'keep',
      eventSeq: 3,
    });
    expect(writes.events.map((e) => [e.seq, e.type, e.data])).toEqual([
      [3, 'RUN_STATUS_CHANGED', { from: 'FAILED', to: 'RUNNING', error: null }],
    ]);
    const asOperator = rowWrites(run, decision.plan, {
      operator: { action: 'retry-step', reason: 'fixed', operationId: null },
    });
    expect(asOperator.events.map((e) => [e.seq, e.type, e.stepId, e.kind])).toEqual([
      [3, 'OPERATOR_ACTION', 's1', 'action'],
      [4, 'RUN_STATUS_CHANGED', null, null],
    ]);
    expect(writes.outbox).toEqual([
      { op: 'deleteParked', runId: run.runId },
      { op: 'insert', runId: run.runId, stepIndex: 1, kind: 'action', dueAt: null, held: false },
    ]);
    expect(writes.wake).toBe(true);
  });

  it('writes nothing for a step the plan leaves as it is', () => {
    const run = runState('RUNNING', [['RUNNING', 'NONE']]);
    const plan: Plan = {
      steps: [{ index: 0, status: 'RUNNING' }],
      skipPending: false,
      unskip: false,
      item: { type: 'keep' },
    };
    expect(rowWrites(run, plan)).toMatchObject({ steps: [], outbox: [], run: undefined, wake: false });
  });
});
