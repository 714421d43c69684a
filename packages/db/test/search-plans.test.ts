import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRuns, createDb, createPool, searchRuns, type Db } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { recordStatements, type StatementRecorder } from './query-plans/record-statements.js';
import { isPlannable } from './query-plans/scan-nodes.js';
import { countCases, searchCases, seedSearchRuns, type SearchCase } from './query-plans/search-cases.js';

/**
 * Run search (GET /v1/runs, /v1/runs/counts) must stay index scans (migrations/sql/004_search.sql): with 100,000 runs
 * seeded as search-seed.sql does and fresh statistics, every single-filter search — first page and a page after a
 * cursor — and the one-day counts are planned with their own values, and must read workflow_runs through the index
 * their case names, never sequentially. Dropping or changing an index, or writing a filter so that its index no longer
 * matches (a parameterised jsonb key, a missing `error is not null`), fails here. The same cases measured at 10 M runs:
 * docs/performance.md#search (`pnpm --filter @sagaflow/db explain:search`).
 */

const RUNS = 100_000;
const INDEX_READS = ['Index Scan', 'Index Only Scan', 'Bitmap Index Scan'];
/** A position in the middle of the seeded month: the plan of a page after a cursor. */
const MIDDLE = {
  createdAt: new Date(Date.now() - 15 * 24 * 3600 * 1000).toISOString(),
  runId: 'ffffffff-ffff-7fff-bfff-ffffffffffff',
};

/** A plan node that reads workflow_runs or one of its indexes. */
interface Scan {
  nodeType: string;
  index: string | undefined;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

let database: TestDatabase;
let admin: pg.Client;
let db: Db;
let recorder: StatementRecorder;

beforeAll(async () => {
  database = await createTestDatabase();
  const pool = createPool(database.url, { max: 2, applicationName: 'search-plans' });
  recorder = recordStatements(pool);
  db = createDb(pool);
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  await seedSearchRuns(admin, RUNS);
}, 300_000);

afterAll(async () => {
  await admin?.end();
  await db?.destroy();
  await database?.drop();
});

/** How the one statement `action` sends to workflow_runs reads it (Bitmap Index Scans name only their index). */
async function workflowRunsScans(action: () => Promise<unknown>): Promise<Scan[]> {
  const sent = (await recorder.during(action)).filter(isPlannable).filter((s) => /workflow_runs/.test(s.text));
  expect(sent).toHaveLength(1);
  const { rows } = await admin.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>({
    text: `explain (format json) ${sent[0]!.text}`,
    values: sent[0]!.values,
  });
  const scans: Scan[] = [];
  const visit = (node: PlanNode): void => {
    const index = node['Index Name'];
    if (node['Relation Name'] === 'workflow_runs' || index?.startsWith('workflow_runs')) {
      if (node['Node Type'].endsWith('Scan')) scans.push({ nodeType: node['Node Type'], index });
    }
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(rows[0]!['QUERY PLAN'][0]!.Plan);
  return scans;
}

function describeScans(scans: Scan[]): string[] {
  return scans.map((s) => `${s.nodeType}${s.index ? ` using ${s.index}` : ''}`);
}

function expectIndexed(scans: Scan[], c: SearchCase): void {
  expect(scans.length, c.name).toBeGreaterThan(0);
  for (const scan of scans) {
    const ok = INDEX_READS.includes(scan.nodeType)
      ? c.indexes.includes(scan.index ?? '')
      : scan.nodeType === 'Bitmap Heap Scan';
    expect(ok, `${c.name}: ${describeScans(scans).join(', ')} (expected one of ${c.indexes.join(', ')})`).toBe(true);
  }
  expect(
    scans.some((s) => INDEX_READS.includes(s.nodeType)),
    c.name,
  ).toBe(true);
}

describe(`search plans over ${RUNS} runs`, () => {
  it.each(searchCases(RUNS).map((c) => [c.name, c] as const))(
    '%s: first page and next page are index scans',
    async (_name, c) => {
      let found = 0;
      const first = await workflowRunsScans(async () => {
        found = (await searchRuns(db, c.filter, { limit: 50, timeoutMs: 10_000 })).items.length;
      });
      expect(found > 0, `${c.name}: the seed has runs that match`).toBe(!c.none);
      expectIndexed(first, c);
      const after = await workflowRunsScans(() =>
        searchRuns(db, c.filter, { limit: 50, after: MIDDLE, timeoutMs: 10_000 }),
      );
      expectIndexed(after, c);
    },
  );

  it.each(countCases().map((c) => [c.name, c] as const))('%s is an index scan', async (_name, c) => {
    let total = 0;
    const scans = await workflowRunsScans(async () => {
      total = (await countRuns(db, c.filter, { timeoutMs: 10_000 })).total;
    });
    expect(total).toBeGreaterThan(0);
    expectIndexed(scans, c);
  });
});
