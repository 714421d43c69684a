import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
    const stopped = running.stop();
    // synchronously, before any of the other parts has had a turn: an attempt that finished while the schedule loop
    // wound down used to commit with its run's next step carried on to this stopping engine (fault-tests'
    // graceful-shutdown saw the second step sent after SIGTERM)
    expect(engineStop).toHaveBeenCalledOnce();
    await stopped;
    expect(h.logs().filter((line) => line['msg'] === 'engine stopped')).toHaveLength(1);
  });
});
