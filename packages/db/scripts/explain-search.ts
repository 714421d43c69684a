import pg from 'pg';
import { countRuns, createDb, createPool, searchRuns, type RunSearchFilter } from '../src/index.js';
import { recordStatements } from '../test/query-plans/record-statements.js';
import { countCases, searchCases, seedSearchRuns } from '../test/query-plans/search-cases.js';

/**
 * docs/performance.md#search: the plans and timings of the single-filter searches and the one-day counts on a
 * database seeded by search-seed.sql. Usage (a scratch database, migrated, never a real one):
 *   DATABASE_URL=postgres://…/search_explain pnpm --filter @sagaflow/db explain:search [--seed 10000000] [--runs N]
 * --seed fills the database first; --runs says how many runs it holds (for the filter values), default the seed.
 */

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

function describePlan(node: PlanNode, depth = 0): string[] {
  const index = node['Index Name'] ? ` using ${node['Index Name']}` : '';
  const relation = node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
  const line = `${'  '.repeat(depth)}${node['Node Type']}${relation}${index} (rows ${node['Actual Rows'] ?? '?'})`;
  return [line, ...(node.Plans ?? []).flatMap((child) => describePlan(child, depth + 1))];
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL: the scratch database to explain on');
  const args = process.argv.slice(2);
  const option = (name: string): number | undefined => {
    const at = args.indexOf(name);
    return at >= 0 ? Number(args[at + 1]) : undefined;
  };
  const seed = option('--seed');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  if (seed) await seedSearchRuns(admin, seed);
  const runs =
    option('--runs') ?? seed ?? Number((await admin.query('select count(*) as n from workflow_runs')).rows[0].n);
  const pool = createPool(url, { max: 1, applicationName: 'explain-search' });
  const recorder = recordStatements(pool);
  const db = createDb(pool);
  const cases: Array<{ name: string; filter: RunSearchFilter; count: boolean }> = [
    ...searchCases(runs).map((c) => ({ ...c, count: false })),
    ...countCases().map((c) => ({ ...c, count: true })),
  ];
  console.log(`${runs} runs; each query run 5 times after one warm-up, median and max in ms\n`);
  try {
    for (const c of cases) {
      const run = (): Promise<unknown> =>
        c.count
          ? countRuns(db, c.filter, { timeoutMs: 60_000 })
          : searchRuns(db, c.filter, { limit: 50, timeoutMs: 60_000 });
      const sent = (await recorder.during(run)).filter((s) => /workflow_runs/.test(s.text));
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await run();
        times.push(performance.now() - started);
      }
      const { rows } = await admin.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>({
        text: `explain (analyze, buffers, format json) ${sent[0]!.text}`,
        values: sent[0]!.values,
      });
      const plan = rows[0]!['QUERY PLAN'][0]!;
      console.log(`${c.name}: median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`);
      for (const line of describePlan(plan.Plan)) console.log(`  ${line}`);
      console.log();
    }
  } finally {
    await db.destroy();
    await admin.end();
  }
}

await main();
