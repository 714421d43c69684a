// Usage: pnpm --filter @sagaflow/bench bench:search [--postgres url|embedded] [--history 1000000] [--requests 200]
// SPEC §18 budgets of run search (docs/performance.md#search): on a fresh database holding `history` runs of the bench
// workflow (fill-history.ts, 2 % of them then marked FAILED with an error and an idempotency key), an API (no engine)
// answers `requests` sequential GET /v1/runs with each single filter (values varied per request) and GET
// /v1/runs/counts bounded to one day; prints p50/p99/max per query against the budgets (≤ 50 ms / ≤ 200 ms p99) and
// writes bench-results/search-<stamp>.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchMonitor } from './bench-monitor.js';
import { bundleServices } from './bundle-services.js';
import { createBenchDatabase } from './bench-database.js';
import { fillHistory } from './fill-history.js';
import { createJsonClient } from './http-client.js';
import { describeDistribution } from './percentiles.js';
import { openPostgresServer } from './postgres-server.js';
import { startServiceStack } from './service-stack.js';
import { registerBenchWorkflow } from './scenarios/fresh-stack.js';
import { BENCH_WORKFLOW } from './workload.js';

const { values } = parseArgs({
  options: {
    postgres: { type: 'string' },
    history: { type: 'string' },
    requests: { type: 'string' },
    out: { type: 'string' },
  },
});
const say = (text: string): void => void process.stderr.write(`bench:search │ ${text}\n`);
const databaseUrl = process.env.DATABASE_URL || undefined;
const mode = values.postgres === 'embedded' || (!values.postgres && !databaseUrl) ? 'embedded' : 'url';
const history = Number(values.history ?? '1000000');
const requests = Number(values.requests ?? '200');
const WARMUP = 20;
const DAY_MS = 24 * 3600 * 1000;
const SEARCH_BUDGET_MS = 50;
const COUNTS_BUDGET_MS = 200;

/** 2 % of the history FAILED (1 in 5 of them DELIVERY_EXHAUSTED, a third at notify), with an idempotency key. */
const SHAPE_SQL = `
  update workflow_runs
     set status = 'FAILED',
         error = jsonb_build_object('code', case when (input->>'seq')::int % 250 = 0 then 'DELIVERY_EXHAUSTED' else 'STEP_FAILED' end,
                                    'message', 'declined', 'stepId', case when (input->>'seq')::int % 3 = 0 then 'notify' else 'reserve' end),
         idempotency_key = 'key-' || (input->>'seq'), request_hash = repeat('0', 64)
   where input->>'phase' = 'history' and (input->>'seq')::int % 50 = 0`;

interface Query {
  name: string;
  budgetMs: number;
  /** the request path of the i-th request */
  path: (i: number) => string;
}

const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();

function buildQueries(samples: { correlationIds: string[]; keys: string[]; end: number }): Query[] {
  const pick = <T>(list: T[], i: number): T => list[i % list.length]!;
  // a day-long window somewhere in the history's week, another one for each request
  const day = (i: number): { createdAfter: string; createdBefore: string } => {
    const start = samples.end - DAY_MS - (i % 144) * 3_600_000;
    return { createdAfter: new Date(start).toISOString(), createdBefore: new Date(start + DAY_MS).toISOString() };
  };
  const search = (name: string, params: (i: number) => Record<string, string>): Query => ({
    name,
    budgetMs: SEARCH_BUDGET_MS,
    path: (i) => `/v1/runs?${q(params(i))}`,
  });
  return [
    search('no filter', () => ({})),
    search('status=FAILED', () => ({ status: 'FAILED' })),
    search('status=COMPLETED', () => ({ status: 'COMPLETED' })),
    search('workflowName', () => ({ workflowName: BENCH_WORKFLOW.name })),
    search('workflowVersion', () => ({ workflowVersion: BENCH_WORKFLOW.version })),
    search('correlationId', (i) => ({ correlationId: pick(samples.correlationIds, i) })),
    search('idempotencyKey', (i) => ({ idempotencyKey: pick(samples.keys, i) })),
    search('errorCode', () => ({ errorCode: 'DELIVERY_EXHAUSTED' })),
    search('stepId', () => ({ stepId: 'notify' })),
    search('createdAfter+createdBefore (a day)', (i) => day(i)),
    search('input (one customer of 97)', (i) => ({ input: JSON.stringify({ customerId: `c-${i % 97}` }) })),
    search('context (one tenant of 500)', (i) => ({ context: JSON.stringify({ tenantId: `t-${i % 500}` }) })),
    { name: 'counts, one day', budgetMs: COUNTS_BUDGET_MS, path: (i) => `/v1/runs/counts?${q(day(i))}` },
  ];
}

const server = await openPostgresServer(mode, databaseUrl, say);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void server.close().finally(() => process.exit(130)));
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = resolve(values.out ?? 'bench-results');
// the API as the main bench and the image run it: an esbuild bundle on plain node
const bundles = await bundleServices(join(outDir, `search-${stamp}-bundles`));
const database = await createBenchDatabase(server.adminUrl, 'search');
const stack = await startServiceStack({
  databaseUrl: database.url,
  postmasterPid: server.postmasterPid,
  engines: 0,
  withEngines: false,
  serviceEnv: {},
  logDir: join(outDir, `search-${stamp}-logs`),
  bundles,
});
const monitor = new BenchMonitor(database.url);
const client = createJsonClient(stack.apiUrl, 1);
let failed = false;
try {
  await registerBenchWorkflow(stack);
  if (history > 0) await fillHistory(database.url, history, say);
  say('marking 2 % of the history FAILED');
  await monitor.query(SHAPE_SQL);
  await monitor.query('vacuum analyze workflow_runs');
  const correlationIds = (
    await monitor.query<{ c: string }>(
      'select correlation_id as c from workflow_runs tablesample system (1) limit $1',
      [requests],
    )
  ).map((r) => r.c);
  const keys = (
    await monitor.query<{ k: string }>(
      'select idempotency_key as k from workflow_runs where idempotency_key is not null limit $1',
      [requests],
    )
  ).map((r) => r.k);
  const [clock] = await monitor.query<{ end: number }>(
    'select extract(epoch from max(created_at))::float8 * 1000 as "end" from workflow_runs',
  );
  const queries = buildQueries({ correlationIds, keys, end: clock?.end ?? Date.now() });
  const results = [];
  for (const query of queries) {
    const times: number[] = [];
    let items = 0;
    for (let i = 0; i < WARMUP + requests; i++) {
      const response = await client.get(query.path(i));
      if (response.status !== 200)
        throw new Error(`${query.name}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
      if (i >= WARMUP) times.push(response.receivedAt - response.sentAt);
      const body = response.body as { items?: unknown[]; total?: number };
      items += body.items?.length ?? body.total ?? 0;
    }
    const d = describeDistribution(times);
    const round = (n: number): number => Math.round(n * 10) / 10;
    const row = {
      query: query.name,
      p50: round(d.p50),
      p99: round(d.p99),
      max: round(d.max),
      budgetMs: query.budgetMs,
      withinBudget: d.p99 <= query.budgetMs,
      meanResults: round(items / (WARMUP + requests)),
    };
    results.push(row);
    say(`${row.query}: p50 ${row.p50} ms, p99 ${row.p99} ms, max ${row.max} ms (budget ${row.budgetMs})`);
  }
  const table = [
    `| query (${history} runs stored, ${requests} requests each) | p50 ms | p99 ms | max ms | budget p99 | results/request |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.query} | ${r.p50} | ${r.p99} | ${r.max} | ${r.withinBudget ? '✓' : '✗'} ≤ ${r.budgetMs} | ${r.meanResults} |`,
    ),
  ].join('\n');
  process.stdout.write(`${table}\n`);
  await mkdir(outDir, { recursive: true });
  await writeFile(
    join(outDir, `search-${stamp}.json`),
    JSON.stringify({ history, requests, postgres: server.version, results }, null, 2),
  );
} catch (error) {
  failed = true;
  say(`failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  client.close();
  await monitor.close();
  await stack.stop();
  await database.drop();
  await server.close();
}
process.exit(failed ? 1 : 0);
