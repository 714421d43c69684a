import { cancelRun, ConflictError, NotFoundError } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';

/** docs/contract.md#run-lifecycle cancel paths: in flight, before any engine ran, and refusals. */

let h: EngineHarness;
beforeAll(async () => {
  h = await createEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('lifecycle: cancel', () => {
  it('cancel while step 2 is in flight: its result is recorded, then steps 2 and 1 are compensated and the run is CANCELLED', async () => {
    const saga = await h.defineSaga('cancel-inflight', [
      { id: 'a', compensation: true },
      { id: 'b', compensation: true },
      { id: 'c', compensation: true },
    ]);
    h.downstream.script(saga.path('b'), [{ status: 200, body: { reserved: true } }]);
    h.downstream.holdPath(saga.path('b'));

    const runId = await saga.start();
    await waitFor(() => h.downstream.heldCount(saga.path('b')) === 1, {
      timeoutMs: 10_000,
      description: 'step b to be in flight',
    });

    expect(await cancelRun(h.db, runId)).toEqual({ runId, status: 'CANCELLING' });
    expect((await h.getRun(runId)).run.status).toBe('CANCELLING');
    h.downstream.releasePath(saga.path('b'));
    const view = await h.waitTerminal(runId);

    expect(view.run.status).toBe('CANCELLED');
    expect(view.run.error).toMatchObject({ code: 'CANCELLED' });
    expect(view.steps.map((s) => [s.stepId, s.status, s.compensationStatus])).toEqual([
      ['a', 'SUCCEEDED', 'COMPENSATED'],
      ['b', 'SUCCEEDED', 'COMPENSATED'],
      ['c', 'SKIPPED', 'PENDING'],
    ]);
    expect(view.steps[1]!.output).toEqual({ reserved: true });
    const requests = h.downstream.requests({ runId });
    expect(requests.map((r) => r.path)).toEqual([
      '/cancel-inflight/a',
      '/cancel-inflight/b',
      '/cancel-inflight/b/undo',
      '/cancel-inflight/a/undo',
    ]);
    expect(requests.slice(2).map((r) => r.key)).toEqual([`${runId}:b:compensate`, `${runId}:a:compensate`]);
    await h.expectNoMoreWork(runId);
  });

  it('cancel of a terminal run is a conflict; of an unknown run, not found', async () => {
    const saga = await h.defineSaga('cancel-terminal', [{ id: 'a' }]);
    const runId = await saga.start();
    expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');

    await expect(cancelRun(h.db, runId)).rejects.toBeInstanceOf(ConflictError);
    await expect(cancelRun(h.db, '00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
    expect((await h.getRun(runId)).run.status).toBe('COMPLETED');
    await h.expectNoMoreWork(runId);
  });
});

describe('lifecycle: cancel with no engine running', () => {
  let idle: EngineHarness;
  beforeAll(async () => {
    idle = await createEngineHarness({ engine: false });
  });
  afterAll(async () => {
    await idle?.close();
  });

  it('a PENDING run is CANCELLED at once with every step SKIPPED, and an engine started later sends nothing', async () => {
    const saga = await idle.defineSaga('cancel-pending', [{ id: 'a', compensation: true }, { id: 'b' }]);
    const runId = await saga.start();
    expect((await idle.getRun(runId)).run.status).toBe('PENDING');

    expect(await cancelRun(idle.db, runId)).toEqual({ runId, status: 'CANCELLED' });
    const view = await idle.getRun(runId);
    expect(view.run).toMatchObject({ status: 'CANCELLED', error: { code: 'CANCELLED' } });
    expect(view.run.completedAt).not.toBeNull();
    expect(view.steps.map((s) => [s.stepId, s.status, s.attempts, s.compensationStatus])).toEqual([
      ['a', 'SKIPPED', 0, 'PENDING'],
      ['b', 'SKIPPED', 0, 'NONE'],
    ]);
    expect(await idle.outbox(runId)).toEqual([]);

    await idle.startEngine();
    await idle.expectNoMoreWork(runId);
    expect(idle.downstream.requests()).toEqual([]);
  });
});
