import { registerDefinition, startRun } from '@sagaflow/db';
import { createTestDatabase, type TestDatabase } from '@sagaflow/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDefinition } from './processes/definitions.js';
import { killEngines, spawnEngine, type EngineProcess } from './processes/engine-process.js';
import { readAttempts, readLiveItem, waitForTerminalRun } from './processes/rows.js';
import { startDeduplicatingDownstream, type DeduplicatingDownstream } from './processes/deduplicating-downstream.js';

/** kill -9 of an engine in the middle of an attempt: the lease expires, another engine redoes it, nothing is lost. */
describe('engine killed with SIGKILL mid-attempt', () => {
  let tdb: TestDatabase;
  let downstream: DeduplicatingDownstream;
  const engines: EngineProcess[] = [];
  const LEASE = { ENGINE_LEASE_MS: '1500' };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    downstream = await startDeduplicatingDownstream();
  });
  afterEach(async () => {
    await killEngines(engines.splice(0));
  });
  afterAll(async () => {
    await downstream?.close();
    await tdb?.drop();
  });

  const startEngine = async (id: string): Promise<EngineProcess> => {
    const engine = await spawnEngine({ databaseUrl: tdb.url, id, env: LEASE });
    engines.push(engine);
    return engine;
  };

  it('redelivers a step whose engine died, with the same idempotency key, and completes the run', async () => {
    await registerDefinition(
      tdb.db,
      buildDefinition('crash-forward', downstream.url, [{ id: 'one' }, { id: 'two' }, { id: 'three' }]),
    );
    downstream.setScript((r) => (r.path === '/two' ? 'hold' : { status: 200, body: { step: r.path } }));
    const engineA = await startEngine('engine-a');
    const { runId } = await startRun(tdb.db, {
      workflowName: 'crash-forward',
      input: { n: 1 },
      correlationId: 'crash-1',
    });

    const first = await downstream.waitForRequest((r) => r.path === '/two');
    const leased = await readLiveItem(tdb.db, runId);
    expect(leased).toMatchObject({ stepIndex: 1, leaseOwner: 'engine-a', deliveries: 1 });

    const exit = await engineA.process.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    await expect.poll(() => first.abandoned).toBe(true);
    // the service finishes its work, but the answer has nowhere to go
    downstream.release(first.seq, { status: 200, body: { step: '/two', delivery: 1 } });

    await startEngine('engine-b');
    const second = await downstream.waitForRequest((r) => r.path === '/two' && r.seq > first.seq);
    const redelivered = await readLiveItem(tdb.db, runId);
    expect(redelivered).toMatchObject({ id: leased.id, stepIndex: 1, leaseOwner: 'engine-b', deliveries: 2 });
    expect(redelivered.leaseToken).not.toBe(leased.leaseToken);
    downstream.release(second.seq, { status: 200, body: { step: '/two', delivery: 2 } });

    const view = await waitForTerminalRun(tdb.db, runId);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    // the dedup store answered the redelivery with the first delivery's result: one effect
    expect(view.steps[1]!.output).toEqual({ step: '/two', delivery: 1 });

    const stepTwo = downstream.requests().filter((r) => r.path === '/two');
    expect(stepTwo.map((r) => r.key)).toEqual([`${runId}:two`, `${runId}:two`]);
    expect(stepTwo.map((r) => r.attempt)).toEqual([1, 1]);
    expect(downstream.effects().get(`${runId}:two`)).toBe(1);

    const attempts = await readAttempts(tdb.db, runId);
    expect(attempts.filter((a) => a.stepIndex === 1)).toEqual([
      { stepIndex: 1, kind: 'action', attemptNo: 1, outcome: 'SUCCEEDED' },
    ]);
    expect(attempts).toHaveLength(3);
  });

  it('redelivers a compensation whose engine died and ends COMPENSATED with each effect once', async () => {
    const definition = buildDefinition('crash-unwind', downstream.url, [
      { id: 'reserve', compensated: true },
      { id: 'charge', compensated: true },
      { id: 'ship' },
    ]);
    await registerDefinition(tdb.db, definition);
    let heldOnce = false;
    downstream.setScript((r) => {
      if (r.path === '/ship') return { status: 400, body: { error: 'address rejected' } };
      if (r.path === '/charge/compensate' && !heldOnce) {
        heldOnce = true;
        return 'hold';
      }
      return { status: 200, body: { done: r.path } };
    });
    const engineA = await startEngine('engine-c');
    const { runId } = await startRun(tdb.db, {
      workflowName: 'crash-unwind',
      input: { n: 2 },
      correlationId: 'crash-2',
    });

    const first = await downstream.waitForRequest((r) => r.path === '/charge/compensate');
    expect(await readLiveItem(tdb.db, runId)).toMatchObject({
      stepIndex: 1,
      kind: 'compensation',
      leaseOwner: 'engine-c',
      deliveries: 1,
    });
    await engineA.process.kill('SIGKILL');
    await expect.poll(() => first.abandoned).toBe(true);
    downstream.release(first.seq, { status: 200, body: { refunded: true } });

    await startEngine('engine-d');
    const view = await waitForTerminalRun(tdb.db, runId);
    expect(view.run.status).toBe('COMPENSATED');
    expect(view.run.error).toMatchObject({ code: 'STEP_FAILED', stepId: 'ship' });
    expect(view.steps.map((s) => [s.status, s.compensationStatus])).toEqual([
      ['SUCCEEDED', 'COMPENSATED'],
      ['SUCCEEDED', 'COMPENSATED'],
      ['FAILED', 'NONE'],
    ]);

    const compensations = downstream.requests().filter((r) => r.path.endsWith('/compensate'));
    expect(compensations.map((r) => [r.path, r.key])).toEqual([
      ['/charge/compensate', `${runId}:charge:compensate`],
      ['/charge/compensate', `${runId}:charge:compensate`],
      ['/reserve/compensate', `${runId}:reserve:compensate`],
    ]);
    expect(downstream.effects().get(`${runId}:charge:compensate`)).toBe(1);
    expect(downstream.effects().get(`${runId}:reserve:compensate`)).toBe(1);

    const compensationAttempts = (await readAttempts(tdb.db, runId)).filter((a) => a.kind === 'compensation');
    expect(compensationAttempts).toEqual([
      { stepIndex: 1, kind: 'compensation', attemptNo: 1, outcome: 'SUCCEEDED' },
      { stepIndex: 0, kind: 'compensation', attemptNo: 1, outcome: 'SUCCEEDED' },
    ]);
  });
});
