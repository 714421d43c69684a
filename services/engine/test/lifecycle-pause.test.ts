import {
  cancelRun,
  pauseRun,
  pauseWorkflow,
  readRunEvents,
  redriveRun,
  resumeRun,
  resumeWorkflow,
  type Db,
} from '@sagaflow/db';
import { statusesByAttempt, waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';

/** docs/contract.md#pause and #redrive through a running engine: attempts in flight, cancel wins, held work. */

let h: EngineHarness;
beforeAll(async () => {
  h = await createEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

/** The run's history as `type[/stepId/kind][:action]` strings, in seq order. */
async function history(db: Db, runId: string): Promise<string[]> {
  const page = await readRunEvents(db, runId, 0, 1000);
  return (page?.events ?? []).map((e) => {
    const where = e.stepId ? `/${e.stepId}/${e.kind}` : '';
    const what =
      e.type === 'OPERATOR_ACTION'
        ? `:${String(e.data['action'])}`
        : e.type === 'RUN_STATUS_CHANGED'
          ? `:${String(e.data['from'])}>${String(e.data['to'])}`
          : '';
    return `${e.type}${where}${what}`;
  });
}

/** The run's live item: held (due 'infinity', its due time kept) or not. */
async function liveItem(db: Db, runId: string) {
  const { rows } = await sql<{ step_index: number; kind: string; held: boolean; infinite: boolean; leased: boolean }>`
    select step_index, kind, held_due_at is not null as held, due_at = 'infinity' as infinite,
           lease_token is not null as leased
      from outbox where run_id = ${runId} and status = 'READY'
  `.execute(db);
  return rows[0];
}

/** Two engine ticks and nothing in flight: whatever the engine would start now, it has started. */
async function settle(): Promise<void> {
  const engine = h.engine!.engine;
  await engine.tick();
  await engine.tick();
  await waitFor(() => engine.inFlightCount === 0, { timeoutMs: 5_000, description: 'nothing in flight' });
}

describe('pause and resume a run', () => {
  it('an attempt in flight finishes and is recorded; the next step waits until resume, then the run completes', async () => {
    const saga = await h.defineSaga('pause-inflight', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    h.downstream.holdPath(saga.path('b'));
    const runId = await saga.start();
    await waitFor(() => h.downstream.heldCount(saga.path('b')) === 1, {
      timeoutMs: 10_000,
      description: 'b in flight',
    });

    const paused = await pauseRun(h.db, runId, { reason: 'downstream maintenance' });
    expect(paused).toMatchObject({ applied: true, status: 'RUNNING', paused: true });
    // pausing again is a no-op
    expect(await pauseRun(h.db, runId)).toMatchObject({
      applied: false,
      code: 'NOOP',
      status: 'RUNNING',
      paused: true,
    });

    h.downstream.releasePath(saga.path('b'));
    await waitFor(async () => (await h.getRun(runId)).steps[1]!.status === 'SUCCEEDED', {
      timeoutMs: 10_000,
      description: "b's result recorded",
    });
    await settle();
    const waiting = await h.getRun(runId);
    expect(waiting.run).toMatchObject({ status: 'RUNNING', paused: true });
    expect(waiting.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'PENDING']);
    expect(h.downstream.requests({ runId, path: saga.path('c') })).toEqual([]);
    expect(await liveItem(h.db, runId)).toEqual({
      step_index: 2,
      kind: 'action',
      held: true,
      infinite: true,
      leased: false,
    });

    expect(await resumeRun(h.db, runId, { reason: 'done' })).toMatchObject({
      applied: true,
      status: 'RUNNING',
      paused: false,
    });
    const done = await h.waitTerminal(runId);
    expect(done.run).toMatchObject({ status: 'COMPLETED', paused: false });
    expect(h.downstream.requests({ runId }).map((r) => r.path)).toEqual([
      saga.path('a'),
      saga.path('b'),
      saga.path('c'),
    ]);
    expect(await history(h.db, runId)).toEqual([
      'RUN_CREATED',
      'RUN_STATUS_CHANGED:PENDING>RUNNING',
      'ATTEMPT_FINISHED/a/action',
      'OPERATOR_ACTION:pause',
      'ATTEMPT_FINISHED/b/action',
      'OPERATOR_ACTION:resume',
      'ATTEMPT_FINISHED/c/action',
      'RUN_STATUS_CHANGED:RUNNING>COMPLETED',
    ]);
    const pauseEvent = (await readRunEvents(h.db, runId, 0, 100))!.events.find((e) => e.type === 'OPERATOR_ACTION');
    expect(pauseEvent?.data).toEqual({ action: 'pause', reason: 'downstream maintenance', operationId: null });
    // a resumed run again is a no-op; a terminal run cannot be paused
    expect(await resumeRun(h.db, runId)).toMatchObject({ applied: false, code: 'NOOP', paused: false });
    expect(await pauseRun(h.db, runId)).toMatchObject({ applied: false, code: 'CONFLICT', status: 'COMPLETED' });
    await h.expectNoMoreWork(runId);
  });

  it('a run whose last attempt finishes while paused still completes, and is not paused', async () => {
    const saga = await h.defineSaga('pause-last', [{ id: 'a' }]);
    h.downstream.holdPath(saga.path('a'));
    const runId = await saga.start();
    await waitFor(() => h.downstream.heldCount(saga.path('a')) === 1, {
      timeoutMs: 10_000,
      description: 'a in flight',
    });
    expect(await pauseRun(h.db, runId)).toMatchObject({ applied: true, paused: true });
    h.downstream.releasePath(saga.path('a'));
    const done = await h.waitTerminal(runId);
    expect(done.run).toMatchObject({ status: 'COMPLETED', paused: false });
    expect(await history(h.db, runId)).toEqual([
      'RUN_CREATED',
      'RUN_STATUS_CHANGED:PENDING>RUNNING',
      'OPERATOR_ACTION:pause',
      'ATTEMPT_FINISHED/a/action',
      'RUN_STATUS_CHANGED:RUNNING>COMPLETED',
    ]);
    await h.expectNoMoreWork(runId);
  });

  it('a retry due while paused is not sent; resume sends it at once', async () => {
    const saga = await h.defineSaga('pause-retry', [{ id: 'a' }], {
      retry: { maxAttempts: 3, initialIntervalMs: 300, backoffCoefficient: 1, jitter: 'none' },
    });
    h.downstream.script(saga.path('a'), statusesByAttempt(503, 200));
    h.downstream.holdPath(saga.path('a'));
    const runId = await saga.start();
    await waitFor(() => h.downstream.heldCount(saga.path('a')) === 1, {
      timeoutMs: 10_000,
      description: 'a in flight',
    });
    await pauseRun(h.db, runId);
    h.downstream.releasePath(saga.path('a'));
    // the 503 is recorded; its retry, due 300 ms later, waits
    await waitFor(async () => (await h.attempts(runId)).length === 1, { timeoutMs: 10_000, description: 'attempt 1' });
    const item = await liveItem(h.db, runId);
    expect(item).toMatchObject({ step_index: 0, held: true, infinite: true });
    const { rows } = await sql<{ late: boolean }>`
      select held_due_at > now() - interval '1 second' as late from outbox where run_id = ${runId} and status = 'READY'
    `.execute(h.db);
    expect(rows[0]?.late).toBe(true);
    // well past the retry's due time, nothing was sent
    await waitFor(
      async () => {
        const { rows: due } = await sql<{ passed: boolean }>`
          select held_due_at < now() as passed from outbox where run_id = ${runId} and status = 'READY'`.execute(h.db);
        return due[0]?.passed === true;
      },
      { timeoutMs: 5_000, description: 'the retry to fall due' },
    );
    await settle();
    expect(h.downstream.requests({ runId })).toHaveLength(1);
    expect((await h.getRun(runId)).run).toMatchObject({ status: 'RUNNING', paused: true });

    await resumeRun(h.db, runId);
    const done = await h.waitTerminal(runId);
    expect(done.run.status).toBe('COMPLETED');
    expect(h.downstream.requests({ runId })).toHaveLength(2);
  });

  it('cancel wins over pause: the paused run unpauses and unwinds, the held step is never sent', async () => {
    const saga = await h.defineSaga('pause-cancel', [{ id: 'a', compensation: true }, { id: 'b' }]);
    h.downstream.holdPath(saga.path('a'));
    const runId = await saga.start();
    await waitFor(() => h.downstream.heldCount(saga.path('a')) === 1, {
      timeoutMs: 10_000,
      description: 'a in flight',
    });
    await pauseRun(h.db, runId, { reason: 'look first' });
    h.downstream.releasePath(saga.path('a'));
    await waitFor(async () => (await liveItem(h.db, runId))?.held === true, {
      timeoutMs: 10_000,
      description: 'b held',
    });

    expect(await cancelRun(h.db, runId)).toEqual({ runId, status: 'CANCELLING' });
    expect((await h.getRun(runId)).run.paused).toBe(false);
    const done = await h.waitTerminal(runId);
    expect(done.run).toMatchObject({ status: 'CANCELLED', paused: false });
    expect(done.steps.map((s) => [s.stepId, s.status, s.compensationStatus])).toEqual([
      ['a', 'SUCCEEDED', 'COMPENSATED'],
      ['b', 'SKIPPED', 'NONE'],
    ]);
    expect(h.downstream.requests({ runId }).map((r) => r.path)).toEqual([saga.path('a'), saga.undoPath('a')]);
    expect(await history(h.db, runId)).toEqual([
      'RUN_CREATED',
      'RUN_STATUS_CHANGED:PENDING>RUNNING',
      'OPERATOR_ACTION:pause',
      'ATTEMPT_FINISHED/a/action',
      'CANCEL_REQUESTED',
      'RUN_STATUS_CHANGED:RUNNING>CANCELLING',
      'ATTEMPT_FINISHED/a/compensation',
      'RUN_STATUS_CHANGED:CANCELLING>CANCELLED',
    ]);
    await h.expectNoMoreWork(runId);
  });
});

describe('pause and resume a workflow', () => {
  it('starts are accepted but nothing is dispatched; an attempt in flight finishes; resume releases every run', async () => {
    const saga = await h.defineSaga('pause-workflow', [{ id: 'a' }, { id: 'b' }]);
    h.downstream.holdPath(saga.path('a'));
    const inFlight = await saga.start();
    await waitFor(() => h.downstream.heldCount(saga.path('a')) === 1, {
      timeoutMs: 10_000,
      description: 'a in flight',
    });

    expect(await pauseWorkflow(h.db, saga.name, { reason: 'incident' })).toMatchObject({
      name: saga.name,
      paused: true,
      changed: true,
    });
    expect(await pauseWorkflow(h.db, saga.name)).toMatchObject({ paused: true, changed: false });
    const started = [await saga.start(), await saga.start()];
    h.downstream.releasePath(saga.path('a'));
    await waitFor(async () => (await liveItem(h.db, inFlight))?.step_index === 1, {
      timeoutMs: 10_000,
      description: "the in-flight run's a recorded",
    });
    await settle();
    expect((await liveItem(h.db, inFlight))?.held).toBe(true);
    for (const runId of started) {
      expect((await h.getRun(runId)).run).toMatchObject({ status: 'PENDING', paused: false });
      expect(await liveItem(h.db, runId)).toMatchObject({ step_index: 0, held: true, infinite: true });
    }
    expect(h.downstream.requests({ path: saga.path('b') })).toEqual([]);
    expect(h.downstream.requests({ path: saga.path('a') })).toHaveLength(1);

    expect(await resumeWorkflow(h.db, saga.name)).toMatchObject({ paused: false, changed: true, items: 3 });
    for (const runId of [inFlight, ...started]) expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
    expect(await resumeWorkflow(h.db, saga.name)).toMatchObject({ paused: false, changed: false });
  });

  it('a run paused on its own stays paused when its workflow resumes', async () => {
    const saga = await h.defineSaga('pause-both', [{ id: 'a' }]);
    await pauseWorkflow(h.db, saga.name);
    const runId = await saga.start();
    expect(await pauseRun(h.db, runId)).toMatchObject({ applied: true, status: 'PENDING', paused: true });
    await resumeWorkflow(h.db, saga.name);
    await settle();
    expect((await h.getRun(runId)).run).toMatchObject({ status: 'PENDING', paused: true });
    expect(await liveItem(h.db, runId)).toMatchObject({ held: true });
    await resumeRun(h.db, runId);
    expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
  });
});

describe('redrive', () => {
  it('a forward failure: the failed step runs again (fresh budget) and the run completes', async () => {
    const saga = await h.defineSaga('redrive-forward', [{ id: 'a' }, { id: 'b' }], { retry: { maxAttempts: 1 } });
    h.downstream.script(saga.path('b'), statusesByAttempt(422, 200));
    const runId = await saga.start();
    const failed = await h.waitTerminal(runId);
    expect(failed.run).toMatchObject({ status: 'FAILED', error: { code: 'STEP_FAILED', stepId: 'b' } });

    const result = await redriveRun(h.db, runId, { reason: 'b fixed' });
    expect(result).toMatchObject({ applied: true, stepId: 'b', kind: 'action', status: 'RUNNING' });
    const done = await h.waitTerminal(runId);
    expect(done.run).toMatchObject({ status: 'COMPLETED', error: null });
    expect(done.steps[1]).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expect((await history(h.db, runId)).slice(-5)).toEqual([
      'RUN_STATUS_CHANGED:RUNNING>FAILED',
      'OPERATOR_ACTION/b/action:redrive',
      'RUN_STATUS_CHANGED:FAILED>RUNNING',
      'ATTEMPT_FINISHED/b/action',
      'RUN_STATUS_CHANGED:RUNNING>COMPLETED',
    ]);
    expect(await redriveRun(h.db, runId)).toMatchObject({ applied: false, code: 'CONFLICT', status: 'COMPLETED' });
  });

  it('a failed compensation: it runs again and the unwinding resumes to COMPENSATED', async () => {
    const saga = await h.defineSaga('redrive-compensation', [{ id: 'a', compensation: true }, { id: 'b' }], {
      retry: { maxAttempts: 1 },
      compensationRetry: { maxAttempts: 1 },
    });
    h.downstream.script(saga.path('b'), statusesByAttempt(422));
    h.downstream.script(saga.undoPath('a'), statusesByAttempt(422, 200));
    const runId = await saga.start();
    const failed = await h.waitTerminal(runId);
    expect(failed.run).toMatchObject({ status: 'FAILED', error: { code: 'COMPENSATION_FAILED', stepId: 'a' } });

    const result = await redriveRun(h.db, runId);
    expect(result).toMatchObject({ applied: true, stepId: 'a', kind: 'compensation', status: 'COMPENSATING' });
    const done = await h.waitTerminal(runId);
    expect(done.run).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', stepId: 'b' } });
    expect(done.steps[0]).toMatchObject({ compensationStatus: 'COMPENSATED', compensationAttempts: 2 });
    const redrive = (await readRunEvents(h.db, runId, 0, 100))!.events.find((e) => e.type === 'OPERATOR_ACTION');
    expect(redrive).toMatchObject({
      stepId: 'a',
      kind: 'compensation',
      data: { action: 'redrive', reason: null, operationId: null },
    });
    expect(await redriveRun(h.db, runId)).toMatchObject({
      applied: false,
      code: 'CONFLICT',
      reason: expect.stringContaining('COMPENSATED') as unknown,
    });
    await h.expectNoMoreWork(runId);
  });
});
