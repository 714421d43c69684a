import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  handedItem,
  isCompleteHandoff,
  registerDefinition,
  startRun,
  startRuns,
  type HandoffPayload,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { lockRunState } from '../src/queries/run-state.js';
import { threeStepSaga } from './query-plans/three-step-saga.js';

/**
 * The start statement's half of the handoff (docs/architecture.md#the-first-step-handed-to-an-engine), with a plain
 * LISTENing connection standing in for an engine: what the start writes, what it sends, and that the item an engine
 * builds from the payload is the run as the rows hold it.
 */
const SAGA = threeStepSaga('handoff-start');
const CHANNEL = 'sagaflow_handoff_dbtest';

let database: TestDatabase;
let listener: pg.Client;
let listenerPid: number;
const payloads: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await registerDefinition(database.db, SAGA);
  listener = new pg.Client({ connectionString: database.url });
  await listener.connect();
  await listener.query(`LISTEN ${CHANNEL}`);
  listener.on('notification', (m) => {
    if (m.channel === CHANNEL) payloads.push(m.payload ?? '');
  });
  listenerPid = (await listener.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
});
afterAll(async () => {
  await listener?.end();
  await database?.drop();
});
beforeEach(async () => {
  payloads.length = 0;
  await sql`delete from engines`.execute(database.db);
});

async function register(listenPid: number, freeSlots = 10): Promise<void> {
  await sql`insert into engines (id, channel, listen_pid, lease_ms, free_slots, expires_at)
            values ('db-test-engine', ${CHANNEL}, ${listenPid}, 30000, ${freeSlots}, now() + interval '1 minute')`.execute(
    database.db,
  );
}

async function nextPayload(): Promise<HandoffPayload & { raw: string }> {
  for (let waited = 0; payloads.length === 0; waited += 10) {
    if (waited > 5_000) throw new Error('no handoff notification within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const raw = payloads.shift()!;
  return { ...(JSON.parse(raw) as HandoffPayload), raw };
}

async function item(runId: string) {
  return database.db
    .selectFrom('outbox')
    .select(['id', 'lease_owner', 'lease_token', 'deliveries'])
    .where('run_id', '=', runId)
    .executeTakeFirstOrThrow();
}

describe('a start handing its first step to a registered engine', () => {
  it('sends the engine an item equal to the run as its rows hold it', async () => {
    await register(listenerPid);
    const { runId } = await startRun(database.db, {
      workflowName: SAGA.name,
      input: { orderId: 7, note: 'é' },
      context: { tenant: 'acme' },
      correlationId: 'handoff-db',
      traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const payload = await nextPayload();
    expect(isCompleteHandoff(payload)).toBe(true);
    if (!isCompleteHandoff(payload)) return;
    const handed = handedItem(payload, SAGA.steps, payload.raw.length);

    const row = await item(runId);
    expect(row).toMatchObject({ lease_owner: 'db-test-engine', deliveries: 1 });
    expect(handed).toMatchObject({
      id: row.id,
      runId,
      leaseToken: row.lease_token,
      stepIndex: 0,
      stepId: 'a',
      kind: 'action',
      deliveries: 1,
      attemptsMade: 0,
      started: true,
      outputs: {},
      run: {
        workflowName: SAGA.name,
        workflowVersion: '1.0.0',
        input: { orderId: 7, note: 'é' },
        context: { tenant: 'acme' },
        correlationId: 'handoff-db',
        traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        traceState: null,
      },
    });
    const locked = await database.db.transaction().execute((trx) => lockRunState(trx, runId));
    expect(handed.state).toEqual(locked);
  });

  it('hands nothing to an engine whose LISTEN backend is gone, however fresh its row', async () => {
    const gone = new pg.Client({ connectionString: database.url });
    await gone.connect();
    const pid = (await gone.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    await gone.end();
    await register(pid);
    const { runId } = await startRun(database.db, { workflowName: SAGA.name, input: {}, correlationId: 'gone' });
    expect(await item(runId)).toMatchObject({ lease_owner: null, deliveries: 0 });
    const { rows } = await sql<{ status: string }>`select status from workflow_runs where id = ${runId}`.execute(
      database.db,
    );
    expect(rows[0]?.status).toBe('PENDING');
  });

  it('sends only the ids and the lease when the payload would pass 8,000 bytes as text', async () => {
    await register(listenerPid);
    const { runId } = await startRun(database.db, {
      workflowName: SAGA.name,
      input: { s: '\u0001'.repeat(2_000) },
      correlationId: 'short',
    });
    const payload = await nextPayload();
    expect(isCompleteHandoff(payload)).toBe(false);
    const row = await item(runId);
    expect(payload).toMatchObject({ i: row.id, r: runId, t: row.lease_token });
  });

  it('hands a batch no more runs than the engine has free slots', async () => {
    await register(listenerPid, 2);
    const settled = await startRuns(
      database.db,
      [1, 2, 3, 4, 5].map((i) => ({ workflowName: SAGA.name, input: { i }, correlationId: `batch-${i}` })),
    );
    const leased = await Promise.all(
      settled.map(async (s) => (s.ok ? (await item(s.value.runId)).lease_owner : 'failed')),
    );
    expect(leased.filter((owner) => owner === 'db-test-engine')).toHaveLength(2);
    expect(leased.filter((owner) => owner === null)).toHaveLength(3);
  });
});
