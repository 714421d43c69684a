import { registerDefinition, startRun } from '@sagaflow/db';
import { createTestDatabase, type TestDatabase } from '@sagaflow/db/testing';
import { waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type RunningEngine } from '../src/index.js';
import { buildDefinition } from './processes/definitions.js';
import { killEngines, spawnEngine, type EngineProcess } from './processes/engine-process.js';
import { createMemoryLogger } from './processes/memory-logger.js';
import { readAttempts, readLiveItem, waitForTerminalRun, type OutboxRow } from './processes/rows.js';
import { startDeduplicatingDownstream, type DeduplicatingDownstream } from './processes/deduplicating-downstream.js';

/** Leases without a crash: a stalled worker is fenced out; a slow but live one keeps its item. */
describe('outbox leases', () => {
  let tdb: TestDatabase;
  let downstream: DeduplicatingDownstream;
  const engines: EngineProcess[] = [];
  const inProcess: RunningEngine[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase();
    downstream = await startDeduplicatingDownstream();
  });
  afterEach(async () => {
    await killEngines(engines.splice(0));
    await Promise.all(inProcess.splice(0).map((e) => e.stop()));
  });
  afterAll(async () => {
    await downstream?.close();
    await tdb?.drop();
  });

  it('fences out a stalled worker whose lease expired: it commits nothing and logs the lost lease', async () => {
    await registerDefinition(
      tdb.db,
      buildDefinition('stalled-worker', downstream.url, [{ id: 'first' }, { id: 'second' }]),
    );
    downstream.setScript((r, seenForKey) =>
      r.path === '/first' && seenForKey === 1 ? 'hold' : { status: 200, body: { path: r.path, delivery: seenForKey } },
    );
    const log = createMemoryLogger();
    // engine A: one slot (so it cannot claim its own expired item again) and a heartbeat that never runs
    const engineA = await startEngine({
      databaseUrl: tdb.url,
      serviceUrls: {},
      port: null,
      id: 'stalled-a',
      concurrency: 1,
      leaseMs: 30_000,
      pollIntervalMs: 100,
      heartbeatIntervalMs: 1_000_000_000,
      shutdownGraceMs: 1_000,
      logger: log.logger,
    });
    inProcess.push(engineA);
    const { runId } = await startRun(tdb.db, { workflowName: 'stalled-worker', input: {}, correlationId: 'stalled-1' });

    const stalled = await downstream.waitForRequest((r) => r.path === '/first');
    const leasedByA = await readLiveItem(tdb.db, runId);
    expect(leasedByA).toMatchObject({ stepIndex: 0, leaseOwner: 'stalled-a', deliveries: 1 });
    expect(leasedByA.dueInMs).toBeGreaterThan(20_000);

    // the lease runs out while A is stuck (as if A's heartbeat had stalled for longer than the lease)
    await sql`update outbox set due_at = now() - interval '1 second' where id = ${leasedByA.id}`.execute(tdb.db);
    engines.push(await spawnEngine({ databaseUrl: tdb.url, id: 'engine-b' }));
    const retaken = await downstream.waitForRequest((r) => r.path === '/first' && r.seq > stalled.seq);
    expect(retaken.key).toBe(stalled.key);
    const view = await waitForTerminalRun(tdb.db, runId);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[0]!.output).toEqual({ path: '/first', delivery: 2 });

    // A's request is finally answered: its completion must be rejected by the fencing check
    downstream.release(stalled.seq, { status: 200, body: { path: '/first', delivery: 1, stale: true } });
    const lost = await waitFor(
      () => log.records().find((r) => typeof r['msg'] === 'string' && r['msg'].includes('lease lost')),
      {
        timeoutMs: 10_000,
        description: 'engine A to log its lost lease',
      },
    );
    expect(lost).toMatchObject({ runId, stepId: 'first', outboxId: leasedByA.id });

    const attempts = await readAttempts(tdb.db, runId);
    expect(attempts.filter((a) => a.stepIndex === 0)).toEqual([
      { stepIndex: 0, kind: 'action', attemptNo: 1, outcome: 'SUCCEEDED' },
    ]);
    const after = await waitForTerminalRun(tdb.db, runId);
    expect(after.steps[0]!.output).toEqual({ path: '/first', delivery: 2 });
    expect(after.steps[0]!.attempts).toBe(1);
    expect(after.run.updatedAt).toBe(view.run.updatedAt);
    expect(log.records().filter((r) => r['msg'] === 'step attempt succeeded')).toEqual([]);
  });

  it('keeps extending the lease of a slow attempt so a second engine never takes it', async () => {
    await registerDefinition(
      tdb.db,
      buildDefinition('slow-step', downstream.url, [{ id: 'slow', timeoutMs: 4_000, retry: { maxAttempts: 1 } }]),
    );
    downstream.setScript(() => 'hold');
    const env = { ENGINE_LEASE_MS: '1000' };
    engines.push(
      ...(await Promise.all(['slow-a', 'slow-b'].map((id) => spawnEngine({ databaseUrl: tdb.url, id, env })))),
    );
    const { runId } = await startRun(tdb.db, { workflowName: 'slow-step', input: {}, correlationId: 'slow-1' });

    const request = await downstream.waitForRequest((r) => r.key === `${runId}:slow`);
    // the service takes 2.5 s (2.5 leases) to answer; meanwhile the item must stay with its first owner
    const samples: OutboxRow[] = [];
    await waitFor(
      async () => {
        samples.push(await readLiveItem(tdb.db, runId));
        return Date.now() - request.arrivedAt >= 2_500;
      },
      { timeoutMs: 5_000, intervalMs: 100, description: 'the slow answer time to pass' },
    );
    downstream.release(request.seq, { status: 200, body: { slow: true } });

    const owner = samples[0]!.leaseOwner;
    expect(['slow-a', 'slow-b']).toContain(owner);
    expect(new Set(samples.map((s) => `${s.leaseOwner}/${s.leaseToken}/${s.deliveries}`)).size).toBe(1);
    expect(samples.every((s) => s.deliveries === 1 && s.dueInMs > 0)).toBe(true);

    const view = await waitForTerminalRun(tdb.db, runId);
    expect(view.run.status).toBe('COMPLETED');
    expect(view.steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 1, output: { slow: true } });
    expect(downstream.requests().filter((r) => r.key === `${runId}:slow`)).toHaveLength(1);
    expect(await readAttempts(tdb.db, runId)).toHaveLength(1);
  });
});
