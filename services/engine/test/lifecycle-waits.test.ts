import {
  cancelRun,
  ConflictError,
  pauseRun,
  readRunEvents,
  registerDefinition,
  resumeRun,
  sendSignal,
  startRun,
  type RunView,
} from '@sagaflow/db';
import { parseWorkflowDefinition, type StepDefinition } from '@sagaflow/definitions';
import { waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';

/** docs/contract.md#durable-waits: sleep and waitForSignal steps against real Postgres and an in-process engine. */

let h: EngineHarness;
beforeAll(async () => {
  h = await createEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

type WaitSpec = { id: string; sleep: object } | { id: string; waitForSignal: object } | { id: string; undo?: boolean };

/** Registers a saga whose HTTP steps call the fake downstream at /<name>/<id> (and /<name>/<id>/undo). */
async function defineWaits(name: string, specs: WaitSpec[]): Promise<(input?: object) => Promise<string>> {
  const steps = specs.map((spec): unknown => {
    if ('sleep' in spec || 'waitForSignal' in spec) return spec;
    return {
      id: spec.id,
      request: { method: 'POST', url: h.downstream.urlFor(`/${name}/${spec.id}`) },
      ...(spec.undo
        ? {
            compensation: {
              id: `${spec.id}-undo`,
              request: { method: 'POST', url: h.downstream.urlFor(`/${name}/${spec.id}/undo`) },
            },
          }
        : {}),
    };
  });
  const parsed = parseWorkflowDefinition({ name, version: '1.0.0', steps: steps as StepDefinition[] });
  if (!parsed.success) throw new Error(JSON.stringify(parsed.issues));
  await registerDefinition(h.db, parsed.data);
  return async (input = {}) =>
    (await startRun(h.db, { workflowName: name, input: input as Record<string, unknown>, correlationId: `c-${name}` }))
      .runId;
}

async function history(runId: string) {
  const page = await readRunEvents(h.db, runId, 0, 1000);
  return (page?.events ?? []).map((e) => ({ type: e.type, stepId: e.stepId, data: e.data }));
}

const types = async (runId: string) => (await history(runId)).map((e) => e.type);

/** Polls until the run's step `index` waits (its wait columns are set and its item is unleased). */
function waitUntilWaiting(runId: string, index: number): Promise<unknown> {
  return waitFor(
    async () => {
      const row = await h.db
        .selectFrom('run_steps')
        .innerJoin('outbox', 'outbox.run_id', 'run_steps.run_id')
        .select(['run_steps.wait_for', 'outbox.lease_owner'])
        .where('run_steps.run_id', '=', runId)
        .where('run_steps.step_index', '=', index)
        .executeTakeFirst();
      return row?.wait_for != null && row.lease_owner === null;
    },
    { timeoutMs: 10_000, description: `run ${runId} step ${index} to wait` },
  );
}

const signalRows = (runId: string) =>
  h.db.selectFrom('run_signals').selectAll().where('run_id', '=', runId).orderBy('seq').execute();

const stepsOf = (view: RunView) => view.steps.map((s) => [s.stepId, s.status, s.compensationStatus]);

describe('sleep', () => {
  it('sleeps durationMs without holding a lease or a slot, then goes on with output { sleptUntil }', async () => {
    const start = await defineWaits('sleep-duration', [
      { id: 'a' },
      { id: 'nap', sleep: { durationMs: 1500 } },
      { id: 'b' },
    ]);
    const runId = await start();
    await waitUntilWaiting(runId, 1);
    // waiting: RUNNING step, an unleased item due at the wake-up, no attempt in flight
    const [item] = await h.outbox(runId);
    expect(item).toMatchObject({ step_index: 1, status: 'READY', lease_owner: null, deliveries: 0 });
    expect(h.engine?.engine.inFlightCount).toBe(0);
    const waiting = await h.getRun(runId);
    expect(waiting.run.status).toBe('RUNNING');
    expect(waiting.steps[1]!.status).toBe('RUNNING');

    const view = await h.waitTerminal(runId);
    expect(view.run.status).toBe('COMPLETED');
    const events = await history(runId);
    const waitingEvent = events.find((e) => e.type === 'STEP_WAITING');
    expect(waitingEvent).toMatchObject({ stepId: 'nap', data: { waitFor: 'sleep' } });
    const until = String(waitingEvent?.data['until']);
    expect(view.steps[1]!.output).toEqual({ sleptUntil: until });
    const finished = new Date(String(view.steps[1]!.finishedAt)).getTime();
    expect(finished).toBeGreaterThanOrEqual(new Date(until).getTime());
    expect(events.map((e) => e.type)).toEqual([
      'RUN_CREATED',
      'RUN_STATUS_CHANGED',
      'ATTEMPT_FINISHED',
      'STEP_WAITING',
      'STEP_WOKEN',
      'ATTEMPT_FINISHED',
      'RUN_STATUS_CHANGED',
    ]);
    expect(events[4]).toEqual({ type: 'STEP_WOKEN', stepId: 'nap', data: { cause: 'timer', signalId: null } });
    // no attempt is recorded for a wait
    expect((await h.attempts(runId)).map((a) => a.step_index)).toEqual([0, 2]);
    await h.expectNoMoreWork(runId);
  });

  it('an until in the past wakes at once; a template that renders no time fails with TEMPLATE_ERROR', async () => {
    const start = await defineWaits('sleep-until', [{ id: 'nap', sleep: { until: '{{input.at}}' } }, { id: 'b' }]);
    const past = '2020-01-01T00:00:00.000Z';
    const runId = await start({ at: past });
    const view = await h.waitTerminal(runId);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[0]!.output).toEqual({ sleptUntil: past });
    const events = await history(runId);
    expect(events.slice(2, 4)).toEqual([
      { type: 'STEP_WAITING', stepId: 'nap', data: { waitFor: 'sleep', until: past } },
      { type: 'STEP_WOKEN', stepId: 'nap', data: { cause: 'timer', signalId: null } },
    ]);

    const bad = await h.waitTerminal(await start({ at: 'soon' }));
    expect(bad.run.status).toBe('FAILED');
    expect(bad.run.error).toMatchObject({ code: 'TEMPLATE_ERROR', stepId: 'nap' });
  });
});

describe('waitForSignal', () => {
  it('a signal sent before the run reaches its wait step is kept and consumed there (mailbox)', async () => {
    const start = await defineWaits('signal-early', [
      { id: 'a' },
      { id: 'approve', waitForSignal: { name: 'approval' } },
      { id: 'b' },
    ]);
    h.downstream.holdPath('/signal-early/a');
    const runId = await start();
    const sent = await sendSignal(h.db, { runId, name: 'approval', payload: { approved: true, by: 'ana' } });
    expect(sent).toMatchObject({ runId, name: 'approval', consumed: false, created: true });
    h.downstream.releasePath('/signal-early/a');
    const view = await h.waitTerminal(runId);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[1]!.output).toEqual({ approved: true, by: 'ana' });
    const [row] = await signalRows(runId);
    expect(row).toMatchObject({ id: sent.signalId, consumed_by: 'approve' });
    expect(row?.consumed_at).not.toBeNull();
    const events = await history(runId);
    expect(events.map((e) => e.type)).toContain('SIGNAL_RECEIVED');
    expect(events.find((e) => e.type === 'SIGNAL_RECEIVED')?.data).toEqual({
      name: 'approval',
      signalId: sent.signalId,
    });
    expect(events.find((e) => e.type === 'STEP_WOKEN')?.data).toEqual({ cause: 'signal', signalId: sent.signalId });
  });

  it('a signal after the wait began wakes the step at once, its payload templatable by later steps', async () => {
    // a later step templates the payload
    const parsed = parseWorkflowDefinition({
      name: 'signal-late-template',
      version: '1.0.0',
      steps: [
        { id: 'approve', waitForSignal: { name: 'approval' } },
        {
          id: 'pay',
          request: {
            method: 'POST',
            url: h.downstream.urlFor('/signal-late-template/pay'),
            body: { approved: '{{steps.approve.output.approved}}', note: 'by {{steps.approve.output.by}}' },
          },
        },
      ],
    });
    if (!parsed.success) throw new Error(JSON.stringify(parsed.issues));
    await registerDefinition(h.db, parsed.data);
    const runId = (await startRun(h.db, { workflowName: 'signal-late-template', input: {}, correlationId: 'c' })).runId;
    await waitUntilWaiting(runId, 0);
    const [item] = await h.outbox(runId);
    expect(item).toMatchObject({ lease_owner: null, deliveries: 0 });
    const startedAt = Date.now();
    const sent = await sendSignal(h.db, { runId, name: 'approval', payload: { approved: true, by: 'bo' } });
    const view = await h.waitTerminal(runId);
    // woken by the signal, not by the 7-day timeout nor the poll
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(view.run.status).toBe('COMPLETED');
    expect(h.downstream.requests({ path: '/signal-late-template/pay' })[0]?.body).toEqual({
      approved: true,
      note: 'by bo',
    });
    expect(await types(runId)).toEqual([
      'RUN_CREATED',
      'RUN_STATUS_CHANGED',
      'STEP_WAITING',
      'SIGNAL_RECEIVED',
      'STEP_WOKEN',
      'ATTEMPT_FINISHED',
      'RUN_STATUS_CHANGED',
    ]);
    expect((await signalRows(runId))[0]).toMatchObject({ id: sent.signalId, consumed_by: 'approve' });
  });

  it('consumes the oldest signal first, one per wait step; signals of other names stay', async () => {
    const start = await defineWaits('signal-oldest', [
      { id: 'first', waitForSignal: { name: 'go' } },
      { id: 'second', waitForSignal: { name: 'go' } },
    ]);
    const runId = await start();
    const one = await sendSignal(h.db, { runId, name: 'go', payload: 1 });
    const other = await sendSignal(h.db, { runId, name: 'other', payload: 'x' });
    const two = await sendSignal(h.db, { runId, name: 'go', payload: 2 });
    const three = await sendSignal(h.db, { runId, name: 'go', payload: 3 });
    const view = await h.waitTerminal(runId);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps.map((s) => s.output)).toEqual([1, 2]);
    const rows = await signalRows(runId);
    expect(rows.map((r) => [r.id, r.consumed_by])).toEqual([
      [one.signalId, 'first'],
      [other.signalId, null],
      [two.signalId, 'second'],
      [three.signalId, null],
    ]);
  });

  it('timeout with onTimeout fail: the step FAILED with SIGNAL_TIMEOUT, the run STEP_FAILED, compensation as usual', async () => {
    const start = await defineWaits('signal-timeout-fail', [
      { id: 'a', undo: true },
      { id: 'approve', waitForSignal: { name: 'approval', timeoutMs: 300 } },
      { id: 'b' },
    ]);
    const runId = await start();
    const view = await h.waitTerminal(runId);
    expect(view.run.status).toBe('COMPENSATED');
    expect(view.run.error).toMatchObject({ code: 'STEP_FAILED', stepId: 'approve' });
    expect(view.steps[1]!.error).toMatchObject({ code: 'SIGNAL_TIMEOUT' });
    expect(stepsOf(view)).toEqual([
      ['a', 'SUCCEEDED', 'COMPENSATED'],
      ['approve', 'FAILED', 'NONE'],
      ['b', 'SKIPPED', 'NONE'],
    ]);
    const events = await history(runId);
    expect(events.map((e) => e.type)).toEqual([
      'RUN_CREATED',
      'RUN_STATUS_CHANGED',
      'ATTEMPT_FINISHED',
      'STEP_WAITING',
      'STEP_WOKEN',
      'RUN_STATUS_CHANGED',
      'ATTEMPT_FINISHED',
      'RUN_STATUS_CHANGED',
    ]);
    expect(events[4]!.data).toEqual({ cause: 'timeout', signalId: null });
    expect(events[5]!.data).toMatchObject({ from: 'RUNNING', to: 'COMPENSATING' });
    expect(h.downstream.requests({ runId }).map((r) => r.path)).toEqual([
      '/signal-timeout-fail/a',
      '/signal-timeout-fail/a/undo',
    ]);
    // a signal after the end is refused
    await expect(sendSignal(h.db, { runId, name: 'approval' })).rejects.toBeInstanceOf(ConflictError);
    await h.expectNoMoreWork(runId);
  });

  it('timeout with onTimeout continue: the step SUCCEEDED with output null', async () => {
    const start = await defineWaits('signal-timeout-continue', [
      { id: 'approve', waitForSignal: { name: 'approval', timeoutMs: 200, onTimeout: 'continue' } },
      { id: 'b' },
    ]);
    const runId = await start();
    const view = await h.waitTerminal(runId);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[0]).toMatchObject({ status: 'SUCCEEDED', output: null });
    expect((await history(runId)).find((e) => e.type === 'STEP_WOKEN')?.data).toEqual({
      cause: 'timeout',
      signalId: null,
    });
  });

  it('cancel while waiting: the wait ends, succeeded steps are compensated, the run is CANCELLED', async () => {
    const start = await defineWaits('signal-cancel', [
      { id: 'a', undo: true },
      { id: 'approve', waitForSignal: { name: 'approval' } },
    ]);
    const runId = await start();
    await waitUntilWaiting(runId, 1);
    expect(await cancelRun(h.db, runId)).toEqual({ runId, status: 'CANCELLING' });
    const view = await h.waitTerminal(runId);
    expect(view.run.status).toBe('CANCELLED');
    expect(stepsOf(view)).toEqual([
      ['a', 'SUCCEEDED', 'COMPENSATED'],
      ['approve', 'FAILED', 'NONE'],
    ]);
    const step = await h.db
      .selectFrom('run_steps')
      .select(['wait_for', 'wait_until'])
      .where('run_id', '=', runId)
      .where('step_index', '=', 1)
      .executeTakeFirst();
    expect(step).toEqual({ wait_for: null, wait_until: null });
    await h.expectNoMoreWork(runId);
  });

  it('a paused run waiting for a signal does not wake on the signal until resume (SPEC §15)', async () => {
    const start = await defineWaits('signal-paused', [
      { id: 'approve', waitForSignal: { name: 'approval' } },
      { id: 'pay' },
    ]);
    const runId = await start();
    await waitUntilWaiting(runId, 0);
    await pauseRun(h.db, runId);
    const heldItem = async () => {
      const { rows } = await sql<{ infinite: boolean; held: boolean; due_now: boolean; leased: boolean }>`
        select due_at = 'infinity' as infinite, held_due_at is not null as held,
               held_due_at <= now() as due_now, lease_token is not null as leased
          from outbox where run_id = ${runId} and status = 'READY'
      `.execute(h.db);
      return rows[0];
    };
    // held at the 7-day timeout
    expect(await heldItem()).toEqual({ infinite: true, held: true, due_now: false, leased: false });

    const sent = await sendSignal(h.db, { runId, name: 'approval', payload: { by: 'ana' } });
    // still held, but its kept due time is now: resume wakes it at once
    expect(await heldItem()).toEqual({ infinite: true, held: true, due_now: true, leased: false });
    const engine = h.engine!.engine;
    await engine.tick();
    await engine.tick();
    await waitFor(() => engine.inFlightCount === 0, { timeoutMs: 5_000, description: 'nothing in flight' });
    expect(await heldItem()).toMatchObject({ infinite: true, held: true });
    expect((await signalRows(runId))[0]).toMatchObject({ id: sent.signalId, consumed_at: null, consumed_by: null });
    expect(h.downstream.requests({ path: '/signal-paused/pay' })).toHaveLength(0);
    expect(await types(runId)).not.toContain('STEP_WOKEN');
    expect((await h.getRun(runId)).run).toMatchObject({ status: 'RUNNING', paused: true });

    const resumedAt = Date.now();
    await resumeRun(h.db, runId);
    const view = await h.waitTerminal(runId);
    expect(Date.now() - resumedAt).toBeLessThan(5_000);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps.find((s) => s.stepId === 'approve')?.output).toEqual({ by: 'ana' });
    expect((await signalRows(runId))[0]).toMatchObject({ id: sent.signalId, consumed_by: 'approve' });
    const events = await types(runId);
    expect(events.indexOf('SIGNAL_RECEIVED')).toBeLessThan(events.lastIndexOf('OPERATOR_ACTION'));
    expect(events.lastIndexOf('OPERATOR_ACTION')).toBeLessThan(events.indexOf('STEP_WOKEN'));
    await h.expectNoMoreWork(runId);
  });
});
