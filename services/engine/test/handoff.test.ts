import { waitFor } from '@sagaflow/testkit';
import { pauseWorkflow, resumeWorkflow, startRuns } from '@sagaflow/db';
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

  it('no more runs of a start batch than the engine has free slots: the rest are left to the claim', async () => {
    const saga = await h.defineSaga('batch-slots', [{ id: 'a' }]);
    await startRegisteredEngine({ concurrency: 2 });
    const runIds = await startBatch(saga.name, 5);
    for (const runId of runIds) expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
    const handed = await Promise.all(runIds.map((runId) => handedAtStart(runId)));
    expect(handed.filter(Boolean)).toHaveLength(2);
  });

  it('a run handed to an engine whose slots are full goes back to the outbox at once; a pause then holds it', async () => {
    const saga = await h.defineSaga('full', [{ id: 'a' }]);
    h.downstream.holdPath(saga.path('a'));
    const engine = await startRegisteredEngine({ concurrency: 1 });
    const first = await saga.start({ i: 0 });
    let late: string[] = [];
    try {
      await waitFor(() => h.downstream.heldCount(saga.path('a')) === 1, {
        timeoutMs: 5_000,
        description: 'one in flight',
      });
      // the registry as a refresh that came too late would leave it: two more runs handed to the full engine
      await h.db.transaction().execute(async (trx) => {
        await sql`update engines set free_slots = 5 where id = ${engine.id}`.execute(trx);
        late = (
          await startRuns(
            trx,
            [1, 2].map((i) => ({ workflowName: saga.name, input: { i }, correlationId: `l${i}` })),
          )
        ).map((s) => {
          if (!s.ok) throw s.error;
          return s.value.runId;
        });
      });
      for (const runId of late) expect(await handedAtStart(runId)).toBe(true);
      // not kept waiting in the engine: handed back, unleased, the delivery not counted
      await waitFor(
        async () => {
          const items = await Promise.all(late.map(async (runId) => (await h.outbox(runId))[0]));
          return items.every((item) => item?.lease_owner === null && item.deliveries === 0);
        },
        { timeoutMs: 5_000, description: 'the late runs handed back' },
      );
      expect(h.engine!.engine.inFlightCount).toBe(1);
      // a pause reaches them: they are in the outbox, not in the engine
      await pauseWorkflow(h.db, saga.name);
    } finally {
      h.downstream.releasePath(saga.path('a'));
    }
    expect((await h.waitTerminal(first)).run.status).toBe('COMPLETED');
    await h.engine!.engine.tick();
    for (const runId of late) expect(h.downstream.requests({ runId })).toHaveLength(0);
    await resumeWorkflow(h.db, saga.name);
    for (const runId of late) expect((await h.waitTerminal(runId)).run.status).toBe('COMPLETED');
  });

  it('a handed run does not take the slots a claim in flight asked for: never more attempts than the concurrency', async () => {
    const saga = await h.defineSaga('cap', [{ id: 'a' }]);
    const other = await h.defineSaga('cap-paused', [{ id: 'a' }]);
    h.downstream.holdPath(saga.path('a'));
    const engine = await startRegisteredEngine({ concurrency: 3 });
    const admin = await h.database.pool.connect();
    try {
      // one slot busy
      const busy = await saga.start({ i: 0 });
      await waitFor(() => h.downstream.heldCount(saga.path('a')) === 1, { timeoutMs: 5_000, description: 'one held' });
      // the next claim will ask for the two free slots and wait on a lock: its candidates are a paused workflow's item
      // (the claim checks the pause under a key-share lock, which the admin's row lock blocks) and a run of `cap`
      await pauseWorkflow(h.db, other.name);
      const paused = await other.start({});
      await admin.query('begin');
      await admin.query('select 1 from workflow_pauses where workflow_name = $1 for update', [other.name]);
      const unhanded = await h.db.transaction().execute(async (trx) => {
        await sql`update engines set free_slots = 0 where id = ${engine.id}`.execute(trx);
        const [started] = await startRuns(trx, [
          { workflowName: saga.name, input: { i: 1 }, correlationId: 'claimed' },
        ]);
        if (!started?.ok) throw new Error('start failed');
        await sql`update outbox set due_at = now() - interval '1 second', held_due_at = null where run_id = ${paused}`.execute(
          trx,
        );
        return started.value.runId;
      });
      await waitFor(
        async () => {
          const { rows } = await sql<{ n: string }>`
            select count(*) as n from pg_stat_activity
             where wait_event_type = 'Lock' and query like '%with candidates as%'`.execute(h.db);
          return Number(rows[0]!.n) > 0;
        },
        { timeoutMs: 5_000, description: 'the claim waiting on the pause row' },
      );
      // two runs handed while the claim waits: its two slots are taken, so they go back to the outbox
      await h.db.transaction().execute(async (trx) => {
        await sql`update engines set free_slots = 2 where id = ${engine.id}`.execute(trx);
        await startRuns(
          trx,
          [2, 3].map((i) => ({ workflowName: saga.name, input: { i }, correlationId: `h${i}` })),
        );
      });
      await waitFor(
        async () => {
          const { rows } = await sql<{ n: string }>`
            select count(*) as n from outbox o join workflow_runs r on r.id = o.run_id
             where r.correlation_id in ('h2', 'h3') and o.lease_owner is null`.execute(h.db);
          return Number(rows[0]!.n) === 2;
        },
        { timeoutMs: 5_000, description: 'the handed runs handed back' },
      );
      await admin.query('commit');
      await waitFor(() => h.downstream.requests({ runId: unhanded }).length === 1, {
        timeoutMs: 5_000,
        description: 'the claimed run sent',
      });
      expect(h.engine!.engine.inFlightCount).toBeLessThanOrEqual(3);
      await h.engine!.engine.tick();
      expect(h.downstream.heldCount(saga.path('a'))).toBeLessThanOrEqual(3);
      h.downstream.releasePath(saga.path('a'));
      expect((await h.waitTerminal(busy)).run.status).toBe('COMPLETED');
      expect((await h.waitTerminal(unhanded)).run.status).toBe('COMPLETED');
    } finally {
      await admin.query('rollback').catch(() => undefined);
      admin.release();
      h.downstream.releasePath(saga.path('a'));
      await resumeWorkflow(h.db, other.name);
    }
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

  it('a stopped engine has left the registry: starts leave their runs to the claim', async () => {
    const saga = await h.defineSaga('stop-handed', [{ id: 'a' }]);
    await startRegisteredEngine();
    await h.stopEngine();
    expect(await registered()).toBeUndefined();
    const runId = await saga.start({});
    expect((await h.outbox(runId))[0]).toMatchObject({ lease_owner: null, deliveries: 0 });
    expect((await h.getRun(runId)).run.status).toBe('PENDING');
  });
});
