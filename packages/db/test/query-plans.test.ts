import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimOutboxBatch,
  completeItems,
  createDb,
  createPool,
  registerDefinition,
  startRun,
  type AttemptResult,
  type ClaimedItem,
  type CompletionRequest,
  type Db,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { cloneRun } from './query-plans/clone-runs.js';
import { recordStatements, type SentStatement, type StatementRecorder } from './query-plans/record-statements.js';
import { explainScans, isPlannable, type TableScan } from './query-plans/scan-nodes.js';
import { threeStepSaga } from './query-plans/three-step-saga.js';

/**
 * The hot statements must stay index scans as the tables grow. With 20,000 runs (60,000 steps, 20,000 due outbox
 * items) and fresh statistics, each statement the claim and the completion really send (recorded off the pool, so
 * whatever shape they take) is planned with its own values; none may read a hot table sequentially, and the claim
 * must walk outbox_claim. A change that loses an index (a new predicate, a cast, a dropped index) fails here.
 */

/**
 * Below about 10,000 live items the completion's batch guard is planned as a hash join over a sequential scan of
 * outbox (Postgres estimates 100 rows for jsonb_to_recordset whatever the batch size); at 20,000 it is an index scan.
 */
const RUNS = 20_000;
const HOT_TABLES = ['workflow_runs', 'run_steps', 'step_attempts', 'outbox'];
const INDEX_READS = ['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan', 'Bitmap Index Scan'];
const OWNER = 'plan-test';
const LEASE_MS = 60_000;

const SAGA = threeStepSaga('plans');

/** A run's input of a realistic size (about 400 bytes): what makes a table's pages, and so its scan costs. */
const ORDER = {
  orderId: 'ord_01J9ZK3V7Q8X2M4N6P8R0T2V4X',
  customer: { id: 'cus_4242', email: 'ada@example.com', name: 'Ada Lovelace' },
  items: [
    { sku: 'SKU-1001', quantity: 2, unitPrice: 1999 },
    { sku: 'SKU-2002', quantity: 1, unitPrice: 4999 },
  ],
  shipping: { street: '12 Analytical Engine Road', city: 'London', postcode: 'N1 9GU', country: 'GB' },
  currency: 'EUR',
  total: 8997,
};

let database: TestDatabase;
let admin: pg.Client;
let db: Db;
let recorder: StatementRecorder;

beforeAll(async () => {
  database = await createTestDatabase();
  const pool = createPool(database.url, { max: 2, applicationName: 'query-plans' });
  recorder = recordStatements(pool);
  db = createDb(pool);
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();

  await registerDefinition(database.db, SAGA);
  const { runId } = await startRun(database.db, { workflowName: 'plans', input: ORDER, correlationId: 'plans-0' });
  await cloneRun(admin, runId, RUNS - 1);
  await admin.query('analyze');
}, 300_000); // the copies take seconds on an idle machine, minutes on a busy one
afterAll(async () => {
  await admin?.end();
  await db?.destroy();
  await database?.drop();
});

/** The table reads of every plannable statement, each with the statement it came from. */
async function scansOf(statements: SentStatement[]): Promise<Array<TableScan & { statement: string }>> {
  const plannable = statements.filter(isPlannable);
  expect(plannable.length).toBeGreaterThan(0);
  const scans = [];
  for (const statement of plannable) {
    for (const scan of await explainScans(admin, statement)) scans.push({ ...scan, statement: statement.text });
  }
  return scans;
}

function sequentialReadsOfHotTables(scans: Array<TableScan & { statement: string }>): string[] {
  return scans
    .filter((s) => HOT_TABLES.includes(s.relation) && !INDEX_READS.includes(s.nodeType))
    .map((s) => `${s.nodeType} on ${s.relation} in:\n${s.statement.trim().slice(0, 400)}`);
}

function success(item: ClaimedItem, result: AttemptResult): CompletionRequest {
  if (result.outcome === 'WAITING') throw new Error('a wait records no attempt');
  const now = new Date();
  return {
    item,
    attempt: {
      attemptNo: item.attemptsMade + 1,
      outcome: result.outcome,
      httpStatus: result.outcome === 'SUCCEEDED' ? 200 : 503,
      error: result.outcome === 'SUCCEEDED' ? null : { ...result.error },
      startedAt: now,
      finishedAt: now,
    },
    result,
    carryOver: { owner: OWNER, leaseMs: LEASE_MS },
  };
}

describe(`hot query plans over ${RUNS} runs`, () => {
  let claimed: ClaimedItem[] = [];

  it('the claim walks outbox_claim and reads no hot table sequentially', async () => {
    const sent = await recorder.during(async () => {
      claimed = await claimOutboxBatch(db, OWNER, 16, LEASE_MS);
    });
    expect(claimed).toHaveLength(16);
    const scans = await scansOf(sent);
    expect(sequentialReadsOfHotTables(scans)).toEqual([]);
    expect(scans).toContainEqual(expect.objectContaining({ relation: 'outbox', index: 'outbox_claim' }));
  });

  it('the completion of a batch (successes, a retry, a failure) reads no hot table sequentially', async () => {
    expect(claimed).toHaveLength(16);
    const requests = claimed.map((item, i): CompletionRequest => {
      if (i === 0) {
        const retryAt = new Date(Date.now() + 60_000);
        return success(item, { outcome: 'RETRYABLE', retryAt, error: { code: 'HTTP_503', message: 'busy' } });
      }
      if (i === 1) return success(item, { outcome: 'FAILED', error: { code: 'STEP_FAILED', message: 'declined' } });
      return success(item, { outcome: 'SUCCEEDED', output: { i } });
    });
    let settled: Awaited<ReturnType<typeof completeItems>> = [];
    const sent = await recorder.during(async () => {
      settled = await completeItems(db, requests);
    });
    expect(settled.map((s) => s.ok)).toEqual(requests.map(() => true));
    const scans = await scansOf(sent);
    expect(sequentialReadsOfHotTables(scans)).toEqual([]);
    // the guard finds each item and its run by key
    expect(scans).toContainEqual(expect.objectContaining({ relation: 'outbox' }));
    expect(scans).toContainEqual(expect.objectContaining({ relation: 'workflow_runs' }));
  });
});
