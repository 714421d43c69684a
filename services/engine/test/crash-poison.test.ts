import { registerDefinition, startRun } from '@sagaflow/db';
import { createTestDatabase, type TestDatabase } from '@sagaflow/db/testing';
import { waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDefinition } from './processes/definitions.js';
import { killEngines, spawnEngine, type EngineProcess } from './processes/engine-process.js';
import { readAttempts, readLiveItem, readOutboxRows, waitForTerminalRun } from './processes/rows.js';
import { startDeduplicatingDownstream, type DeduplicatingDownstream } from './processes/deduplicating-downstream.js';

const MAX_DELIVERIES = 2;

/** An item whose worker dies on every delivery is parked after ENGINE_MAX_DELIVERIES instead of looping forever. */
describe('poison items', () => {
  let tdb: TestDatabase;
  let downstream: DeduplicatingDownstream;
  const engines: EngineProcess[] = [];

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
    const engine = await spawnEngine({
      databaseUrl: tdb.url,
      id,
      env: { ENGINE_LEASE_MS: '1500', ENGINE_MAX_DELIVERIES: String(MAX_DELIVERIES) },
    });
    engines.push(engine);
    return engine;
  };

  it('parks an action whose engine is killed on every delivery, then compensates the earlier step', async () => {
    await registerDefinition(
      tdb.db,
      buildDefinition('poison-action', downstream.url, [{ id: 'reserve', compensated: true }, { id: 'charge' }]),
    );
    // every delivery of "charge" hangs until its engine is killed
    downstream.setScript((r) => (r.path === '/charge' ? 'hold' : { status: 200, body: { path: r.path } }));
    let current = await startEngine('poison-1');
    const { runId } = await startRun(tdb.db, { workflowName: 'poison-action', input: {}, correlationId: 'poison-1' });

    for (let delivery = 1; delivery <= MAX_DELIVERIES; delivery++) {
      await waitFor(() => countCharge(runId) === delivery, {
        timeoutMs: 15_000,
        description: `delivery ${delivery} of "charge"`,
      });
      expect(await readLiveItem(tdb.db, runId)).toMatchObject({
        stepIndex: 1,
        kind: 'action',
        leaseOwner: current.id,
        deliveries: delivery,
      });
      // the next engine is already polling: it can only take the item once the dead one's lease has expired
      const next = await startEngine(`poison-${delivery + 1}`);
      await current.process.kill('SIGKILL');
      current = next;
    }

    const view = await waitForTerminalRun(tdb.db, runId);
    expect(view.run.status).toBe('COMPENSATED');
    expect(view.run.error).toMatchObject({ code: 'DELIVERY_EXHAUSTED', stepId: 'charge' });
    expect(view.steps.map((s) => [s.stepId, s.status, s.compensationStatus])).toEqual([
      ['reserve', 'SUCCEEDED', 'COMPENSATED'],
      ['charge', 'FAILED', 'NONE'],
    ]);
    expect(view.steps[1]!.error).toMatchObject({ code: 'DELIVERY_EXHAUSTED' });
    // parked on the claim after the last allowed delivery: no third request was sent
    expect(countCharge(runId)).toBe(MAX_DELIVERIES);
    expect(await readOutboxRows(tdb.db, runId)).toEqual([
      expect.objectContaining({
        stepIndex: 1,
        kind: 'action',
        status: 'DEAD',
        deliveries: MAX_DELIVERIES + 1,
        lastError: expect.objectContaining({ code: 'DELIVERY_EXHAUSTED' }),
      }),
    ]);
    expect((await readAttempts(tdb.db, runId)).map((a) => [a.stepIndex, a.kind, a.outcome])).toEqual([
      [0, 'action', 'SUCCEEDED'],
      [0, 'compensation', 'SUCCEEDED'],
    ]);
  });

  it('fails the run with DELIVERY_EXHAUSTED when the parked action has nothing to compensate', async () => {
    await registerDefinition(tdb.db, buildDefinition('poison-alone', downstream.url, [{ id: 'only' }]));
    downstream.setScript(() => ({ status: 200, body: {} }));
    const { runId } = await startRun(tdb.db, { workflowName: 'poison-alone', input: {}, correlationId: 'poison-2' });
    // as if MAX_DELIVERIES workers had died on it already
    await sql`update outbox set deliveries = ${MAX_DELIVERIES} where run_id = ${runId}`.execute(tdb.db);
    await startEngine('poison-alone');

    const view = await waitForTerminalRun(tdb.db, runId);
    expect(view.run.status).toBe('FAILED');
    expect(view.run.error).toMatchObject({ code: 'DELIVERY_EXHAUSTED', stepId: 'only' });
    expect(view.steps[0]).toMatchObject({
      status: 'FAILED',
      attempts: 0,
      error: expect.objectContaining({ code: 'DELIVERY_EXHAUSTED' }),
    });
    expect(downstream.requests().filter((r) => r.key.startsWith(runId))).toEqual([]);
    expect(await readOutboxRows(tdb.db, runId)).toEqual([
      expect.objectContaining({ status: 'DEAD', deliveries: MAX_DELIVERIES + 1 }),
    ]);
  });

  it('fails the run with COMPENSATION_FAILED when a compensation is parked', async () => {
    await registerDefinition(
      tdb.db,
      buildDefinition('poison-undo', downstream.url, [{ id: 'book', compensated: true }, { id: 'pay' }]),
    );
    downstream.setScript((r) => {
      if (r.path === '/pay') return { status: 422, body: { error: 'card declined' } };
      if (r.path === '/book/compensate') return 'hold';
      return { status: 200, body: { path: r.path } };
    });
    const first = await startEngine('poison-undo-1');
    const { runId } = await startRun(tdb.db, { workflowName: 'poison-undo', input: {}, correlationId: 'poison-3' });
    await downstream.waitForRequest((r) => r.key === `${runId}:book:compensate`);
    expect(await readLiveItem(tdb.db, runId)).toMatchObject({ stepIndex: 0, kind: 'compensation', deliveries: 1 });
    await first.process.kill('SIGKILL');
    // the compensation's workers keep dying: skip the remaining deaths and the lease wait
    await sql`update outbox set deliveries = ${MAX_DELIVERIES}, due_at = now() where run_id = ${runId}`.execute(tdb.db);
    await startEngine('poison-undo-2');

    const view = await waitForTerminalRun(tdb.db, runId);
    expect(view.run.status).toBe('FAILED');
    expect(view.run.error).toMatchObject({ code: 'COMPENSATION_FAILED', stepId: 'book' });
    expect(view.steps.map((s) => [s.stepId, s.status, s.compensationStatus])).toEqual([
      ['book', 'SUCCEEDED', 'FAILED'],
      ['pay', 'FAILED', 'NONE'],
    ]);
    expect(downstream.requests().filter((r) => r.key === `${runId}:book:compensate`)).toHaveLength(1);
    expect(await readOutboxRows(tdb.db, runId)).toEqual([
      expect.objectContaining({
        stepIndex: 0,
        kind: 'compensation',
        status: 'DEAD',
        lastError: expect.objectContaining({ code: 'DELIVERY_EXHAUSTED' }),
      }),
    ]);
  });

  function countCharge(runId: string): number {
    return downstream.requests().filter((r) => r.key === `${runId}:charge`).length;
  }
});
