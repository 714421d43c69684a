import type { AttemptResult } from '@sagaflow/saga';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimOutboxBatch,
  completeItems,
  createDb,
  createPool,
  oldestSignal,
  registerDefinition,
  sendSignal,
  startRun,
  type ClaimedItem,
  type Db,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { cloneRun } from './query-plans/clone-runs.js';
import { recordStatements, type SentStatement, type StatementRecorder } from './query-plans/record-statements.js';
import { explainScans, isPlannable, type TableScan } from './query-plans/scan-nodes.js';
import { definitionOf } from './support/definitions.js';

/**
 * Waiting runs are due times in the outbox (docs/contract.md#durable-waits): with many of them the claim must still
 * walk outbox_claim to the due items only, and the statements of a wait (its completion, a signal, the mailbox read)
 * must read no hot table sequentially. WAITING_RUNS (default 10,000; docs/performance.md shows 50,000: 100,000 in all) runs sleep a
 * year and as many wait for a signal; DUE_RUNS are due now; SIGNALS_PER_RUN × WAITING_RUNS signals fill run_signals. `PRINT_PLANS=1` prints the claim's EXPLAIN ANALYZE.
 */
const WAITING_RUNS = Number(process.env['WAITING_RUNS'] ?? 10_000);
const DUE_RUNS = 2_000;
/** signals of another name stored per signal-waiting run (half of them consumed): 100,000 signals by default */
const SIGNALS_PER_RUN = Number(process.env['SIGNALS_PER_RUN'] ?? 10);
const HOT_TABLES = ['workflow_runs', 'run_steps', 'step_attempts', 'outbox', 'run_signals'];
const INDEX_READS = ['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan', 'Bitmap Index Scan'];
const OWNER = 'plan-test';
const LEASE_MS = 60_000;
const YEAR_MS = 31_536_000_000;

function definition(name: string, first: object) {
  return definitionOf({
    name,
    version: '1.0.0',
    steps: [first, { id: 'after', request: { method: 'POST', url: 'http://127.0.0.1:9/after' } }],
  });
}

let database: TestDatabase;
let admin: pg.Client;
let db: Db;
let recorder: StatementRecorder;
let signalRun: string;

/** Starts a run of `name`, claims it and commits `result` for its first step; returns the run id. */
async function runWith(name: string, result: (item: ClaimedItem) => AttemptResult): Promise<string> {
  const { runId } = await startRun(database.db, { workflowName: name, input: { orderId: 'o-1' }, correlationId: name });
  const [item] = await claimOutboxBatch(database.db, OWNER, 1, LEASE_MS);
  if (!item || item.runId !== runId) throw new Error('expected to claim the new run');
  await completeItems(database.db, [{ item, attempt: undefined, result: result(item) }]);
  return runId;
}

beforeAll(async () => {
  database = await createTestDatabase();
  const pool = createPool(database.url, { max: 2, applicationName: 'query-plans-waiting' });
  recorder = recordStatements(pool);
  db = createDb(pool);
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  await registerDefinition(database.db, definition('sleeps', { id: 'nap', sleep: { durationMs: YEAR_MS } }));
  await registerDefinition(database.db, definition('waits', { id: 'approve', waitForSignal: { name: 'approval' } }));
  await registerDefinition(
    database.db,
    definition('due', { id: 'go', request: { method: 'POST', url: 'http://127.0.0.1:9/go' } }),
  );
  const until = new Date(Date.now() + YEAR_MS);
  const sleeping = await runWith('sleeps', () => ({
    outcome: 'WAITING',
    wait: { for: 'sleep', until, signal: null },
    began: true,
  }));
  signalRun = await runWith('waits', () => ({
    outcome: 'WAITING',
    wait: { for: 'signal', until, signal: 'approval' },
    began: true,
  }));
  await cloneRun(admin, sleeping, WAITING_RUNS - 1);
  await cloneRun(admin, signalRun, WAITING_RUNS - 1);
  const { runId: due } = await startRun(database.db, {
    workflowName: 'due',
    input: { orderId: 'o-2' },
    correlationId: 'due',
  });
  await cloneRun(admin, due, DUE_RUNS - 1);
  // a full mailbox table: SIGNALS_PER_RUN signals of another name for each waiting run, half of them consumed
  await admin.query(`
    insert into run_signals (id, run_id, name, payload, consumed_at, consumed_by)
    select gen_random_uuid(), run_id, 'other', '{"n": 1}', case when n % 2 = 0 then now() end,
           case when n % 2 = 0 then 'approve' end
      from run_steps, generate_series(1, ${SIGNALS_PER_RUN}) n where wait_for = 'signal'`);
  await admin.query('analyze');
}, 600_000);
afterAll(async () => {
  await admin?.end();
  await db?.destroy();
  await database?.drop();
});

async function scansOf(statements: SentStatement[]): Promise<Array<TableScan & { statement: string }>> {
  const scans = [];
  for (const statement of statements.filter(isPlannable)) {
    for (const scan of await explainScans(admin, statement)) scans.push({ ...scan, statement: statement.text });
  }
  return scans;
}

const sequentialReads = (scans: Array<TableScan & { statement: string }>): string[] =>
  scans
    .filter((s) => HOT_TABLES.includes(s.relation) && !INDEX_READS.includes(s.nodeType))
    .map((s) => `${s.nodeType} on ${s.relation} in:\n${s.statement.trim().slice(0, 400)}`);

describe(`hot query plans with ${2 * WAITING_RUNS} waiting runs`, () => {
  it('the claim walks outbox_claim to the due items only', async () => {
    let claimed: ClaimedItem[] = [];
    const sent = await recorder.during(async () => {
      claimed = await claimOutboxBatch(db, OWNER, 16, LEASE_MS);
    });
    expect(claimed).toHaveLength(16);
    expect(claimed.every((c) => c.run.workflowName === 'due')).toBe(true);
    const scans = await scansOf(sent);
    expect(sequentialReads(scans)).toEqual([]);
    expect(scans).toContainEqual(expect.objectContaining({ relation: 'outbox', index: 'outbox_claim' }));
    if (process.env['PRINT_PLANS']) {
      const claim = sent.find((s) => s.text.includes('for update skip locked'))!;
      await admin.query('begin');
      const { rows } = await admin.query<{ 'QUERY PLAN': string }>({
        text: `explain (analyze, buffers, costs off, timing off, summary on) ${claim.text}`,
        values: claim.values,
      });
      await admin.query('rollback');
      // eslint-disable-next-line no-console -- PRINT_PLANS: the plan for docs/performance.md
      console.log(rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
  });

  it('a signal, the mailbox read and the wake that consumes it read no hot table sequentially, run_signals included', async () => {
    const sent = await recorder.during(async () => {
      await sendSignal(db, { runId: signalRun, name: 'approval', payload: { approved: true } });
    });
    // the due runs come first (older due times); claimed 100 at a time (a claim's NOTIFY names every run it started,
    // and a NOTIFY payload is limited to 8000 bytes)
    let item: ClaimedItem | undefined;
    for (let i = 0; !item && i <= DUE_RUNS / 100; i++)
      item = (await claimOutboxBatch(database.db, OWNER, 100, LEASE_MS)).find((c) => c.runId === signalRun);
    if (!item) throw new Error('the signalled run was not due');
    const consumed = await recorder.during(async () => {
      const mailbox = await oldestSignal(db, signalRun, 'approval');
      if (!mailbox) throw new Error('no signal in the mailbox');
      const wait = item.state.steps[0]!.wait!;
      const settled = await completeItems(db, [
        {
          item,
          attempt: undefined,
          result: {
            outcome: 'SUCCEEDED',
            output: mailbox.payload,
            woken: { wait, began: false, cause: 'signal', signalId: mailbox.signalId },
          },
        },
      ]);
      expect(settled[0]?.ok).toBe(true);
    });
    // With 100,000 signals stored (the default) every read of run_signals is an index read (run_signals_id_key for
    // the writer's consume-once guard and update, run_signals_mailbox for the mailbox). With SIGNALS_PER_RUN=1
    // (10,000 signals) Postgres plans the writer's lookup by signal id as a sequential scan: it estimates 100 rows
    // for jsonb_to_recordset, and a 10,000-row table is cheaper to scan than to probe 100 times (as for outbox below
    // 10,000 items, docs/performance.md). No index is missing: the unique index on id is what it uses at 100,000.
    const scans = await scansOf([...sent, ...consumed]);
    expect(sequentialReads(scans)).toEqual([]);
  });

  it('the start and the one writer keep their generic plans: neither is planned afresh each time', async () => {
    // one connection, so the prepared statements and their plan counters are that connection's
    const one = createDb(createPool(database.url, { max: 1, applicationName: 'query-plans-prepared' }));
    try {
      // twelve runs of their own (the test above may have claimed every other due item), claimed one at a time
      for (let i = 0; i < 12; i++)
        await startRun(one, { workflowName: 'due', input: { orderId: `w-${i}` }, correlationId: 'prepared' });
      const items: ClaimedItem[] = [];
      for (let i = 0; i < 12; i++) items.push(...(await claimOutboxBatch(one, OWNER, 1, LEASE_MS)));
      expect(items).toHaveLength(12);
      for (const item of items) {
        const [settled] = await completeItems(one, [
          { item, attempt: undefined, result: { outcome: 'SUCCEEDED', output: {} } },
        ]);
        expect(settled?.ok).toBe(true);
      }
      const { rows } = await sql<{ name: string; generic_plans: string; custom_plans: string }>`
        select name, generic_plans, custom_plans from pg_prepared_statements
         where name in ('sagaflow_start_runs', 'sagaflow_row_writes') order by name`.execute(one);
      // Postgres tries five custom plans, then keeps the generic one when it is not dearer by its estimate. When a
      // part of the writer could only read the whole outbox, it planned every completion afresh (≈ 1.5–2 ms of
      // Postgres CPU each with 20,000 waiting runs; docs/performance.md#waiting-runs-and-the-plan). The claim is
      // planned at each call (its generic plan is the dearer by Postgres' estimate, with or without waiting runs);
      // its plan is small: all planning together was 0.24 % of the API's and engine's backends' CPU at 20 runs/s.
      expect(rows).toEqual([
        { name: 'sagaflow_row_writes', generic_plans: '7', custom_plans: '5' },
        { name: 'sagaflow_start_runs', generic_plans: '7', custom_plans: '5' },
      ]);
    } finally {
      await one.destroy();
    }
  });
});
