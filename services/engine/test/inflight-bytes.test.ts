import { waitFor } from '@sagaflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';

/** ENGINE_MAX_INFLIGHT_BYTES with a real Postgres and downstream: large items are claimed in smaller batches. */

const MiB = 1024 * 1024;

let h: EngineHarness;
beforeAll(async () => {
  h = await createEngineHarness({ engine: false });
});
afterAll(async () => {
  await h?.close();
});

describe('the in-flight byte budget', () => {
  it('claims only as many large items as fit the budget; the rest wait until bytes are freed, and all complete', async () => {
    const saga = await h.defineSaga('large', [{ id: 'a' }]);
    h.downstream.holdPath(saga.path('a'));
    const runIds: string[] = [];
    for (let i = 0; i < 5; i++) runIds.push(await saga.start({ i, blob: 'x'.repeat(MiB) }));
    const { engine } = await h.startEngine({ concurrency: 10, batchSize: 10, maxInflightBytes: 2.5 * MiB });

    // items are taken while the bytes before them are under 2.5 MiB: three of ~1 MiB
    await waitFor(() => h.downstream.heldCount(saga.path('a')) === 3, {
      timeoutMs: 10_000,
      description: 'three large items in flight',
    });
    await engine.tick();
    await engine.tick();
    expect(engine.inFlightCount).toBe(3);
    expect(engine.inFlightPayloadBytes).toBeGreaterThan(3 * MiB);
    expect(h.downstream.heldCount(saga.path('a'))).toBe(3);

    h.downstream.releasePath(saga.path('a'));
    for (const runId of runIds) expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
    expect(h.downstream.requests({ path: saga.path('a') })).toHaveLength(5);
    await waitFor(() => engine.inFlightCount === 0, { timeoutMs: 5_000, description: 'slots to free' });
    expect(engine.inFlightPayloadBytes).toBe(0);
    await h.stopEngine();
  });

  it('one item larger than the whole budget still runs (alone)', async () => {
    const saga = await h.defineSaga('huge', [{ id: 'a' }, { id: 'b' }]);
    const runId = await saga.start({ blob: 'y'.repeat(2 * MiB) });
    await h.startEngine({ maxInflightBytes: MiB });
    expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
    await h.stopEngine();
  });
});
