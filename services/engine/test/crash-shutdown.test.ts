import { registerDefinition, startRun } from '@sagaflow/db';
import { createTestDatabase, type TestDatabase } from '@sagaflow/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDefinition } from './processes/definitions.js';
import { countLogMessages, killEngines, spawnEngine, type EngineProcess } from './processes/engine-process.js';
import { readAttempts, readLiveItem, waitForTerminalRun } from './processes/rows.js';
import { startDeduplicatingDownstream, type DeduplicatingDownstream } from './processes/deduplicating-downstream.js';

/** SIGTERM: stop claiming, let in-flight attempts finish within the grace period, hand back the rest, exit 0. */
describe('graceful shutdown', () => {
  let tdb: TestDatabase;
  let downstream: DeduplicatingDownstream;
  const engines: EngineProcess[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase();
    downstream = await startDeduplicatingDownstream();
    await registerDefinition(tdb.db, buildDefinition('drain', downstream.url, [{ id: 'first' }, { id: 'second' }]));
  });
  afterEach(async () => {
    await killEngines(engines.splice(0));
  });
  afterAll(async () => {
    await downstream?.close();
    await tdb?.drop();
  });

  const startEngine = async (id: string, env: Record<string, string> = {}): Promise<EngineProcess> => {
    const engine = await spawnEngine({ databaseUrl: tdb.url, id, env });
    engines.push(engine);
    return engine;
  };

  it('commits an attempt that finishes within the grace period, claims nothing more and exits 0', async () => {
    downstream.setScript((r, seenForKey) =>
      r.path === '/first' && seenForKey === 1 ? 'hold' : { status: 200, body: { path: r.path } },
    );
    const engine = await startEngine('drain-a', { ENGINE_SHUTDOWN_GRACE_MS: '10000' });
    const { runId } = await startRun(tdb.db, { workflowName: 'drain', input: {}, correlationId: 'drain-1' });
    const held = await downstream.waitForRequest((r) => r.key === `${runId}:first`);

    const exited = engine.process.kill('SIGTERM');
    await engine.process.waitForLine(/"msg":"shutting down"/);
    downstream.release(held.seq, { status: 200, body: { drained: true } });
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(countLogMessages(engine.process, 'step attempt succeeded')).toBe(1);
    expect(countLogMessages(engine.process, 'engine stopped')).toBe(1);

    expect(await readAttempts(tdb.db, runId)).toEqual([
      { stepIndex: 0, kind: 'action', attemptNo: 1, outcome: 'SUCCEEDED' },
    ]);
    // the next step was enqueued by the commit but not claimed by the stopping engine
    expect(await readLiveItem(tdb.db, runId)).toMatchObject({
      stepIndex: 1,
      kind: 'action',
      leaseOwner: null,
      deliveries: 0,
    });
    expect(downstream.requests().filter((r) => r.key === `${runId}:second`)).toEqual([]);

    await startEngine('drain-b');
    const view = await waitForTerminalRun(tdb.db, runId);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[0]!.output).toEqual({ drained: true });
  });

  it('hands back an attempt that outlives the grace period, so another engine takes it at once', async () => {
    downstream.setScript((r, seenForKey) =>
      r.path === '/first' && seenForKey === 1 ? 'hold' : { status: 200, body: { path: r.path, seenForKey } },
    );
    // a 30 s lease: without the hand-back, the next engine would wait that long
    const env = { ENGINE_SHUTDOWN_GRACE_MS: '500', ENGINE_LEASE_MS: '30000' };
    const engine = await startEngine('handback-a', env);
    const { runId } = await startRun(tdb.db, { workflowName: 'drain', input: {}, correlationId: 'drain-2' });
    const held = await downstream.waitForRequest((r) => r.key === `${runId}:first`);
    expect(await readLiveItem(tdb.db, runId)).toMatchObject({ leaseOwner: 'handback-a', deliveries: 1 });

    const signalledAt = Date.now();
    expect(await engine.process.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(5_000);
    expect(
      engine.process.lines().some((l) => l.includes('"msg":"released unfinished items"') && l.includes('"released":1')),
    ).toBe(true);
    await expect.poll(() => held.abandoned).toBe(true);

    const released = await readLiveItem(tdb.db, runId);
    expect(released).toMatchObject({ stepIndex: 0, leaseOwner: null, leaseToken: null, deliveries: 0 });
    expect(released.dueInMs).toBeLessThanOrEqual(0);
    expect(await readAttempts(tdb.db, runId)).toEqual([]);

    const startedAt = Date.now();
    await startEngine('handback-b', env);
    const view = await waitForTerminalRun(tdb.db, runId, 10_000);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[0]).toMatchObject({ attempts: 1, output: { path: '/first', seenForKey: 2 } });
  });
});
