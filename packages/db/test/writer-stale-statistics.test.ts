import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimOutboxBatch,
  completeItems,
  createDb,
  createPool,
  registerDefinition,
  startRun,
  type ClaimedItem,
  type Db,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { cloneRun } from './query-plans/clone-runs.js';
import type { SentStatement } from './query-plans/record-statements.js';
import { executedScans, type PlanNode } from './query-plans/scan-nodes.js';
import { threeStepSaga } from './query-plans/three-step-saga.js';

/**
 * The one writer's generic plan is made once per connection, from the statistics of that moment, and kept. Made while
 * the outbox held a few items (an engine's first completions after an idle spell, a fresh database), it must still
 * read only the batch's own items once the outbox holds thousands: it once read every live item at each completion,
 * twice (the lease guard and the pause hold), 5–9 ms of a 17 ms statement under burst
 * (docs/performance.md#the-writers-item-lookup).
 */
const LIVE_ITEMS = 5_000;
const BATCH = 16;
const OWNER = 'stale-stats';
const LEASE_MS = 60_000;

const SAGA = threeStepSaga('stale');

let database: TestDatabase;
let admin: pg.Client;
let db: Db;
/** the writer's statement as the pool was about to send it (not sent: see captureWriter) */
let captured: SentStatement | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  const pool = createPool(database.url, { max: 1, applicationName: 'writer-stale-statistics' });
  captureWriter(pool);
  db = createDb(pool);
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  await registerDefinition(database.db, SAGA);
  const { runId } = await startRun(database.db, { workflowName: 'stale', input: { n: 0 }, correlationId: 'stale' });
  // statistics of an outbox holding one item, kept stale while it grows
  await admin.query('analyze');
  for (const table of ['outbox', 'workflow_runs', 'run_steps'])
    await admin.query(`alter table ${table} set (autovacuum_enabled = off)`);
  await cloneRun(admin, runId, LIVE_ITEMS - 1);
}, 300_000);
afterAll(async () => {
  await admin?.end();
  await db?.destroy();
  await database?.drop();
});

type QueryArgs = [string | { text?: string; values?: unknown[] }, unknown?, ...unknown[]];

/**
 * Keeps the writer's statement from being sent: records its text and values and fails it, so that its replay below
 * runs with guards that still pass (the leases, run states and history seqs it was planned from) and so every part of
 * the plan really runs. Every other statement goes through.
 */
function captureWriter(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: QueryArgs) => unknown;
    (client as unknown as { query: (...args: QueryArgs) => unknown }).query = (...args: QueryArgs) => {
      const [first] = args;
      if (typeof first === 'object' && first.text?.includes('leased as materialized')) {
        captured = { text: first.text, values: first.values ?? [] };
        const refused = new Error('writer captured, not sent');
        const callback = args.find((a): a is (error: Error) => void => typeof a === 'function');
        if (callback) {
          process.nextTick(() => callback(refused));
          return undefined;
        }
        return Promise.reject(refused);
      }
      return query(...args);
    };
  });
}

/**
 * A value as node-pg binds it, as an SQL literal (EXECUTE inside EXPLAIN takes no bind parameters). The writer's
 * arrays hold ids (bigints, uuids) only: JSON.stringify quotes them as an array literal wants.
 */
function literal(client: pg.Client, value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value))
    return client.escapeLiteral(`{${value.map((v) => (v === null ? 'NULL' : JSON.stringify(String(v)))).join(',')}}`);
  return client.escapeLiteral(value instanceof Date ? value.toISOString() : String(value));
}

/** Executes the writer's statement again with its generic plan (EXPLAIN ANALYZE, rolled back) and returns the plan. */
async function genericPlan(statement: SentStatement): Promise<PlanNode> {
  await admin.query('begin');
  try {
    await admin.query('set local plan_cache_mode = force_generic_plan');
    await admin.query(`prepare stale_writer as ${statement.text}`);
    const args = statement.values.map((v) => literal(admin, v)).join(', ');
    const { rows } = await admin.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      `explain (analyze, format json) execute stale_writer(${args})`,
    );
    return rows[0]!['QUERY PLAN'][0]!.Plan;
  } finally {
    await admin.query('rollback');
    await admin.query('deallocate all');
  }
}

describe(`the one writer's generic plan, made with statistics of one outbox item, over ${LIVE_ITEMS} live items`, () => {
  it(`a batch of ${BATCH} completions reads only its own rows`, async () => {
    const claimed: ClaimedItem[] = await claimOutboxBatch(db, OWNER, BATCH, LEASE_MS);
    expect(claimed).toHaveLength(BATCH);
    // a plain batch: each step succeeds and its run's next step is carried on (the commonest completion)
    await expect(
      completeItems(
        db,
        claimed.map((item) => ({
          item,
          attempt: undefined,
          result: { outcome: 'SUCCEEDED' as const, output: {} },
          carryOver: { owner: OWNER, leaseMs: LEASE_MS },
        })),
      ),
    ).rejects.toThrow('writer captured, not sent');
    expect(captured).toBeDefined();
    const plan = await genericPlan(captured!);
    // the guards passed in the replay: the batch's runs were written (then rolled back)
    expect(executedScans(plan, 'run_steps').reduce((rows, scan) => rows + scan.read, 0)).toBeGreaterThanOrEqual(BATCH);
    const wide = ['outbox', 'workflow_runs', 'run_steps'].flatMap((relation) =>
      executedScans(plan, relation)
        .filter((scan) => scan.read > 4 * BATCH)
        .map((scan) => ({ relation, ...scan })),
    );
    expect(wide).toEqual([]);
  });
});
