import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimOutboxBatch,
  pauseRun,
  pauseWorkflow,
  registerDefinition,
  resumeRun,
  resumeWorkflow,
  startRun,
  type Db,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { definitionOf } from './support/definitions.js';

/**
 * docs/contract.md#held-items: the claim never leases an item of a paused run or workflow, even one that is due
 * (a lease that expired while paused, a start or completion that raced a workflow pause): it holds it instead.
 */

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(async () => {
  await database?.drop();
});

async function define(name: string): Promise<void> {
  await registerDefinition(
    db,
    definitionOf({
      name,
      version: '1.0.0',
      steps: [{ id: 'a', request: { method: 'POST', url: 'http://127.0.0.1:9/a' } }],
    }),
  );
}

async function start(name: string): Promise<string> {
  return (await startRun(db, { workflowName: name, input: {}, correlationId: `c-${name}` })).runId;
}

async function item(runId: string) {
  const { rows } = await sql<{ held: boolean; infinite: boolean; leased: boolean; deliveries: number }>`
    select held_due_at is not null as held, due_at = 'infinity' as infinite, lease_token is not null as leased,
           deliveries
      from outbox where run_id = ${runId} and status = 'READY'
  `.execute(db);
  return rows[0];
}

describe('held items and the claim', () => {
  it('a lease that expires while the run is paused is held by the next claim, not redelivered; resume releases it', async () => {
    await define('held-expired');
    const runId = await start('held-expired');
    // an engine takes the item and dies
    expect((await claimOutboxBatch(db, 'dead-engine', 10, 60_000)).map((c) => c.runId)).toEqual([runId]);
    expect(await pauseRun(db, runId)).toMatchObject({ applied: true, status: 'RUNNING', paused: true });
    // the pause leaves an item in flight alone
    expect(await item(runId)).toMatchObject({ held: false, leased: true });
    // the lease runs out (backdated rather than waited for)
    await sql`update outbox set due_at = now() - interval '1 second' where run_id = ${runId}`.execute(db);

    expect(await claimOutboxBatch(db, 'live-engine', 10, 30_000)).toEqual([]);
    expect(await item(runId)).toEqual({ held: true, infinite: true, leased: false, deliveries: 1 });
    expect(await claimOutboxBatch(db, 'live-engine', 10, 30_000)).toEqual([]);

    expect(await resumeRun(db, runId)).toMatchObject({ applied: true, paused: false });
    const claimed = await claimOutboxBatch(db, 'live-engine', 10, 30_000);
    expect(claimed.map((c) => [c.runId, c.deliveries, c.state.paused])).toEqual([[runId, 2, false]]);
  });

  it('an item due for a workflow paused after it was written (a race) is held by the claim; resume releases it', async () => {
    await define('held-race');
    const runId = await start('held-race');
    // the pause row committed, but the item escaped the pause's hold (it was written concurrently)
    await db.insertInto('workflow_pauses').values({ workflow_name: 'held-race' }).execute();
    expect(await item(runId)).toMatchObject({ held: false });

    expect(await claimOutboxBatch(db, 'engine', 10, 30_000)).toEqual([]);
    expect(await item(runId)).toMatchObject({ held: true, infinite: true, leased: false, deliveries: 0 });
    const run = await db
      .selectFrom('workflow_runs')
      .select(['status', 'event_seq'])
      .where('id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(run).toEqual({ status: 'PENDING', event_seq: 1 });

    expect(await resumeWorkflow(db, 'held-race')).toMatchObject({ changed: true, items: 1 });
    expect((await claimOutboxBatch(db, 'engine', 10, 30_000)).map((c) => c.runId)).toEqual([runId]);
  });

  it('a start of a paused workflow is inserted held and wakes no engine', async () => {
    await define('held-start');
    await pauseWorkflow(db, 'held-start');
    const runId = await start('held-start');
    expect(await item(runId)).toMatchObject({ held: true, infinite: true });
    expect(await claimOutboxBatch(db, 'engine', 10, 30_000)).toEqual([]);
    await resumeWorkflow(db, 'held-start');
    expect(await item(runId)).toMatchObject({ held: false, infinite: false });
  });
});
