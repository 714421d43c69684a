import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DefinitionCatalog,
  fireDueSchedule,
  getSchedule,
  InvalidInputError,
  putSchedule,
  type Db,
  type ScheduleSpec,
} from '../src/index.js';
import { createDb, createPool } from '../src/pool.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { registerDefinitions } from './support/definitions.js';

/** fireDueSchedule: one fire time, one transaction, one run, however many callers race for it. */

let database: TestDatabase;
let db: Db;
const others: Db[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await registerDefinitions(db, {
    name: 'nightly',
    version: '1.0.0',
    steps: [{ id: 'run', request: { method: 'POST', url: 'http://127.0.0.1:9/run' } }],
  });
  // separate pools, as separate engines would have
  for (let i = 0; i < 4; i++) others.push(createDb(createPool(database.url, { max: 3 })));
});

afterAll(async () => {
  for (const other of others) await other.destroy();
  await database?.drop();
});

const spec: ScheduleSpec = {
  workflowName: 'nightly',
  cron: '0 3 * * *',
  timezone: 'Europe/Madrid',
  input: {},
  context: {},
  overlap: 'allow',
  paused: false,
};

async function makeDue(id: string, secondsAgo: number): Promise<Date> {
  const due = new Date(Math.floor(Date.now() / 1000) * 1000 - secondsAgo * 1000);
  await db.updateTable('schedules').set({ next_fire_at: due }).where('id', '=', id).execute();
  return due;
}

describe('fireDueSchedule', () => {
  it('12 concurrent callers on 4 pools: exactly one fires the due time, the others find nothing to do', async () => {
    await putSchedule(db, 'raced', spec);
    const due = await makeDue('raced', 2);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        fireDueSchedule(others[i % others.length]!, new DefinitionCatalog(db), 10_000),
      ),
    );
    const fired = results.filter((r) => r !== undefined);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ scheduleId: 'raced', fireAt: due, outcome: 'fired', missed: 0 });
    const runs = await db
      .selectFrom('workflow_runs')
      .select(['id', 'idempotency_key'])
      .where('idempotency_key', 'like', 'schedule:raced:%')
      .execute();
    expect(runs).toEqual([{ id: fired[0]!.runId, idempotency_key: `schedule:raced:${due.toISOString()}` }]);
    // the next fire time is 03:00 Madrid after the one fired
    const after = (await getSchedule(db, 'raced'))!;
    expect(after).toMatchObject({ lastFireAt: due.toISOString(), lastRunId: fired[0]!.runId });
    expect(new Date(after.nextFireAt!).getTime()).toBeGreaterThan(Date.now());
  });

  it('a fire transaction that dies before its commit leaves no run, and the fire time is fired once afterwards', async () => {
    await putSchedule(db, 'crashed', spec);
    const due = await makeDue('crashed', 1);
    const victim = others[0]!;
    // the fire transaction of an engine that is killed after starting the run, before committing
    const killed = await victim
      .transaction()
      .execute(async (trx) => {
        const { rows: pid } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        await sql`select id from schedules where id = 'crashed' for update`.execute(trx);
        await sql`insert into workflow_runs (id, workflow_name, workflow_version, input, context, correlation_id, idempotency_key)
                  values (gen_random_uuid(), 'nightly', '1.0.0', '{}', '{}', 'x', ${`schedule:crashed:${due.toISOString()}`})`.execute(
          trx,
        );
        await sql`select pg_terminate_backend(${pid[0]!.pid})`.execute(db);
        await sql`select 1`.execute(trx);
      })
      .then(
        () => false,
        () => true,
      );
    expect(killed).toBe(true);
    expect(await getSchedule(db, 'crashed')).toMatchObject({ nextFireAt: due.toISOString(), lastRunId: null });
    const fire = await fireDueSchedule(db, new DefinitionCatalog(db), 10_000);
    expect(fire).toMatchObject({ scheduleId: 'crashed', fireAt: due, outcome: 'fired' });
    expect(await fireDueSchedule(db, new DefinitionCatalog(db), 10_000)).toBeUndefined();
    const runs = await db
      .selectFrom('workflow_runs')
      .select('id')
      .where('idempotency_key', 'like', 'schedule:crashed:%')
      .execute();
    expect(runs).toEqual([{ id: fire!.runId }]);
  });

  it('a schedule whose workflow version is gone fails its fire time and moves on', async () => {
    await putSchedule(db, 'orphan', { ...spec, version: '1.0.0' });
    await db.updateTable('schedules').set({ workflow_version: '7.0.0' }).where('id', '=', 'orphan').execute();
    const due = await makeDue('orphan', 1);
    const fire = await fireDueSchedule(db, new DefinitionCatalog(db), 10_000);
    expect(fire).toMatchObject({ scheduleId: 'orphan', fireAt: due, outcome: 'failed', runId: null });
    expect(fire!.error).toMatch(/nightly@7.0.0 is not registered/);
    const after = (await getSchedule(db, 'orphan'))!;
    expect(after.lastRunId).toBeNull();
    expect(new Date(after.nextFireAt!).getTime()).toBeGreaterThan(Date.now());
  });
});

describe('putSchedule', () => {
  it('refuses what cannot fire, naming it', async () => {
    await expect(putSchedule(db, 'x', { ...spec, cron: '0 0 30 2 *' })).rejects.toThrow(InvalidInputError);
    await expect(putSchedule(db, 'x', { ...spec, timezone: 'Nowhere/Land' })).rejects.toThrow(
      /timezone "Nowhere\/Land"/,
    );
    await expect(putSchedule(db, 'x', { ...spec, workflowName: 'nope' })).rejects.toThrow(
      /workflow nope is not registered/,
    );
    expect(await getSchedule(db, 'x')).toBeUndefined();
  });
});
