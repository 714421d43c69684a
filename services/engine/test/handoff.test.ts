import { waitFor } from '@sagaflow/testkit';
import { startRuns } from '@sagaflow/db';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';

/**
 * A start hands its run's first step straight to a live engine (docs/architecture.md#the-first-step-handed-to-an-engine):
 * the start statement leases the item to the engine and NOTIFYs it, so the first request leaves without a claim.
 */

let h: EngineHarness;
beforeAll(async () => {
  h = await createEngineHarness({ engine: false });
});
afterEach(async () => {
  await h.stopEngine();
});
afterAll(async () => {
  await h?.close();
});

interface Registered {
  id: string;
  listen_pid: number;
  free_slots: number;
}

async function registered(): Promise<Registered | undefined> {
  const { rows } = await sql<Registered>`select id, listen_pid, free_slots from engines`.execute(h.db);
  return rows[0];
}

/** Starts the harness' engine and waits until starts may hand it runs (its row is in `engines`, with free slots). */
async function startRegisteredEngine(overrides: Parameters<EngineHarness['startEngine']>[0] = {}): Promise<Registered> {
  await h.startEngine(overrides);
  let row: Registered | undefined;
  await waitFor(async () => (row = await registered()) !== undefined && row.free_slots > 0, {
    timeoutMs: 5_000,
    description: 'the engine in the registry',
  });
  return row!;
}

/** The first step's start time against the run's: equal (one transaction, one now()) only when the start handed it. */
async function handedAtStart(runId: string): Promise<boolean> {
  const { rows } = await sql<{ handed: boolean }>`
    select s.started_at = r.created_at as handed
      from workflow_runs r join run_steps s on s.run_id = r.id and s.step_index = 0
     where r.id = ${runId}`.execute(h.db);
  return rows[0]?.handed ?? false;
}

/** Several starts in one statement, as the API's group commit sends them: all are handed to the same engine. */
async function startBatch(name: string, count: number): Promise<string[]> {
  const requests = Array.from({ length: count }, (_, i) => ({
    workflowName: name,
    input: { i },
    correlationId: `b-${i}`,
  }));
  return (await startRuns(h.db, requests)).map((s) => {
    if (!s.ok) throw s.error;
    return s.value.runId;
  });
}

async function history(runId: string): Promise<Array<[number, string]>> {
  const { rows } = await sql<{ seq: number; type: string }>`
    select seq, type from run_events where run_id = ${runId} order by seq`.execute(h.db);
  return rows.map((r) => [r.seq, r.type]);
}

describe('the first step handed to an engine', () => {
  it('is leased to the engine by the start itself, RUNNING at once, and completes with the usual history', async () => {
    const saga = await h.defineSaga('handed', [{ id: 'a' }, { id: 'b' }]);
    h.downstream.holdPath(saga.path('a'));
    const engine = await startRegisteredEngine();
    const runId = await saga.start({ order: 1 });
    try {
      expect((await h.getRun(runId)).run.status).toBe('RUNNING');
      const [item] = await h.outbox(runId);
      expect(item).toMatchObject({ step_index: 0, lease_owner: engine.id, deliveries: 1 });
      await waitFor(() => h.downstream.heldCount(saga.path('a')) === 1, {
        timeoutMs: 5_000,
        description: 'the request',
      });
    } finally {
      h.downstream.releasePath(saga.path('a'));
    }

    const view = await h.waitTerminal(runId);
    expect(view.run.status).toBe('COMPLETED');
    expect(await handedAtStart(runId)).toBe(true);
    expect(await history(runId)).toEqual([
      [1, 'RUN_CREATED'],
      [2, 'RUN_STATUS_CHANGED'],
      [3, 'ATTEMPT_FINISHED'],
      [4, 'ATTEMPT_FINISHED'],
      [5, 'RUN_STATUS_CHANGED'],
    ]);
    const [request] = h.downstream.requests({ runId, path: saga.path('a') });
    expect(request?.body).toMatchObject({ input: { order: 1 } });
    expect(
      h.logs().filter((l) => l['runId'] === runId && l['msg'] === 'run transition' && l['to'] === 'RUNNING'),
    ).toHaveLength(1);
  });

  it('waits in the engine while its slots are full, and every handed run completes', async () => {
    const saga = await h.defineSaga('queued', [{ id: 'a' }]);
    h.downstream.holdPath(saga.path('a'));
    const engine = await startRegisteredEngine({ concurrency: 1 });
    const runIds = await startBatch(saga.name, 3);
    try {
      await waitFor(() => h.downstream.heldCount(saga.path('a')) === 1, {
        timeoutMs: 5_000,
        description: 'one in flight',
      });
      // all three were handed at once; two wait in the engine for its one slot, leased to it
      for (const runId of runIds) expect((await h.outbox(runId))[0]).toMatchObject({ lease_owner: engine.id });
      expect(h.engine!.engine.inFlightCount).toBe(1);
    } finally {
      h.downstream.releasePath(saga.path('a'));
    }
    for (const runId of runIds) expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
    expect(h.downstream.requests({ path: saga.path('a') })).toHaveLength(3);
  });

  it('is not handed over while the workflow is paused: the start is PENDING and held', async () => {
    const saga = await h.defineSaga('paused-start', [{ id: 'a' }]);
    await startRegisteredEngine();
    await sql`insert into workflow_pauses (workflow_name) values (${saga.name})`.execute(h.db);
    const runId = await saga.start({});
    expect((await h.getRun(runId)).run.status).toBe('PENDING');
    expect((await h.outbox(runId))[0]).toMatchObject({ lease_owner: null, deliveries: 0 });
    expect(await history(runId)).toEqual([[1, 'RUN_CREATED']]);
    await sql`delete from workflow_pauses where workflow_name = ${saga.name}`.execute(h.db);
  });

  it('a run whose data is too large for a NOTIFY payload is claimed instead, and completes', async () => {
    const saga = await h.defineSaga('large-start', [{ id: 'a' }]);
    await startRegisteredEngine();
    const runId = await saga.start({ blob: 'x'.repeat(20_000) });
    expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
    expect(await handedAtStart(runId)).toBe(false);
  });

  it('a payload that grows past 8,000 bytes as text is sent short: the engine hands the item back and claims it', async () => {
    const saga = await h.defineSaga('escaped-start', [{ id: 'a' }]);
    const engine = await startRegisteredEngine();
    // 2,000 bytes stored, ~12,000 as JSON text (each control character is written \u0001)
    const runId = await saga.start({ s: '\u0001'.repeat(2_000) });
    expect((await h.outbox(runId))[0]).toMatchObject({ lease_owner: engine.id });
    expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
    expect(h.downstream.requests({ runId })).toHaveLength(1);
  });

  it('items handed while the engine was not listening go back to the outbox when it listens again', async () => {
    const saga = await h.defineSaga('missed', [{ id: 'a' }]);
    // polls rarely: only the hand-back (and the wake it sends) can get the run going before its 60 s lease expires
    const engine = await startRegisteredEngine({ pollIntervalMs: 60_000, leaseMs: 60_000 });
    await sql`select pg_terminate_backend(${engine.listen_pid})`.execute(h.db);
    // a start handed the item to the engine and its NOTIFY was lost with the connection
    const runId = await saga.start({});
    await sql`update outbox set lease_owner = ${engine.id}, lease_token = gen_random_uuid(), deliveries = 1,
                                due_at = now() + interval '60 seconds'
               where run_id = ${runId}`.execute(h.db);
    const startedAt = Date.now();
    expect((await h.waitTerminal(runId, 15_000)).run.status).toBe('COMPLETED');
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    expect(h.logs().some((l) => l['msg'] === 'handed back items missed while not listening')).toBe(true);
  });

  it('an engine started with handoff off (ENGINE_HANDOFF=false) registers nowhere: its runs are claimed', async () => {
    const saga = await h.defineSaga('claim-only', [{ id: 'a' }]);
    await h.startEngine({ handoff: false });
    // the engine is up and claiming once it has run one run through
    expect((await h.waitTerminal(await saga.start({}))).run.status).toBe('COMPLETED');
    expect(await registered()).toBeUndefined();
    const runId = await saga.start({});
    expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
    expect(await handedAtStart(runId)).toBe(false);
  });

  it('a stopping engine leaves the registry and hands back what it was handed and had not started', async () => {
    const saga = await h.defineSaga('stop-handed', [{ id: 'a', timeoutMs: 60_000 }]);
    h.downstream.holdPath(saga.path('a'));
    await startRegisteredEngine({ concurrency: 1, shutdownGraceMs: 200 });
    const engine = await registered();
    const runIds = await startBatch(saga.name, 2);
    try {
      await waitFor(() => h.downstream.heldCount(saga.path('a')) === 1, {
        timeoutMs: 5_000,
        description: 'one in flight',
      });
      for (const runId of runIds) expect((await h.outbox(runId))[0]).toMatchObject({ lease_owner: engine!.id });
      await h.stopEngine();
      expect(await registered()).toBeUndefined();
      for (const runId of runIds) {
        expect((await h.outbox(runId))[0]).toMatchObject({ lease_owner: null, deliveries: 0 });
      }
    } finally {
      h.downstream.releasePath(saga.path('a'));
    }
  });
});
