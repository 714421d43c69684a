import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { waitFor } from '@sagaflow/testkit';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';

let h: EngineHarness;
beforeAll(async () => {
  h = await createEngineHarness({ engine: false });
});
afterAll(async () => {
  await h?.close();
});

describe('stopping an engine', () => {
  it('stops claiming and carrying runs on the moment stop is called, not after the schedule loop and operation worker', async () => {
    const running = await h.startEngine();
    const engineStop = vi.spyOn(running.engine, 'stop');
    const stopped = h.stopEngine();
    // synchronously, before any of the other parts has had a turn: an attempt that finished while the schedule loop
    // wound down used to commit with its run's next step carried on to this stopping engine (fault-tests'
    // graceful-shutdown saw the second step sent after SIGTERM)
    expect(engineStop).toHaveBeenCalledOnce();
    await stopped;
    expect(h.logs().filter((line) => line['msg'] === 'engine stopped')).toHaveLength(1);
  });
});

describe('stopping an engine with a request still held', () => {
  it('aborts the request when the grace period ends and hands its item back, unleased', async () => {
    // a step timeout far beyond the grace period: only the abort can end the request early
    const saga = await h.defineSaga('stop-held', [{ id: 'a', timeoutMs: 60_000 }]);
    h.downstream.holdPath(saga.path('a'));
    const runId = await saga.start({});
    await h.startEngine({ shutdownGraceMs: 200 });
    try {
      await waitFor(() => h.downstream.requests({ runId }).length === 1, {
        timeoutMs: 5_000,
        description: 'the held request',
      });
      // stop() waits for the attempt; the attempt ends only if its request is aborted (the downstream never answers)
      const stopping = performance.now();
      await h.stopEngine();
      expect(performance.now() - stopping).toBeLessThan(10_000);
      expect(h.logs().some((line) => line['msg'] === 'released unfinished items' && line['released'] === 1)).toBe(true);
      const [item] = await h.outbox(runId);
      expect(item).toMatchObject({ status: 'READY', lease_owner: null, deliveries: 0 });
      expect(await h.attempts(runId)).toEqual([]);
    } finally {
      h.downstream.releasePath(saga.path('a'));
    }
  }, 90_000);
});
