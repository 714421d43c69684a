import { describeDistribution } from '../percentiles.js';
import type { ScenarioResult } from '../results.js';
import type { SearchScenario } from '../scenarios.js';
import { beforeDeadline, type ScenarioContext } from '../scenario-context.js';
import { createJsonClient } from '../http-client.js';
import { BENCH_WORKFLOW } from '../workload.js';
import { budgetResult, openBudgetWindow } from './budget-result.js';
import { onFreshStack } from './fresh-stack.js';

const WARMUP_REQUESTS = 20;
const DAY_MS = 24 * 3600 * 1000;
/** SPEC §18: GET /v1/runs with any one filter; docs/api.md: counts bounded to one day */
const SEARCH_BUDGET_MS = 50;
const COUNTS_BUDGET_MS = 200;
const round = (n: number): number => Math.round(n * 10) / 10;

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
  endpoint: '/v1/runs' | '/v1/runs/counts';
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
    endpoint: '/v1/runs',
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
    {
      name: 'one day',
      endpoint: '/v1/runs/counts',
      budgetMs: COUNTS_BUDGET_MS,
      path: (i) => `/v1/runs/counts?${q(day(i))}`,
    },
  ];
}

/**
 * SPEC §18: `GET /v1/runs` with any one filter answers in ≤ 50 ms p99 with 1 M runs stored (docs/performance.md#search).
 * The fresh database is filled with `storedRuns` completed runs of the bench workflow (fill-history.ts; --history gives
 * another number), 2 % of them then marked FAILED with an error and an idempotency key; the API alone (no engine)
 * answers `requests` sequential GET /v1/runs for each single filter (values varied per request) and GET /v1/runs/counts
 * bounded to one day (≤ 200 ms), after 20 of each as a warm-up.
 */
export async function runSearch(ctx: ScenarioContext, spec: SearchScenario): Promise<ScenarioResult> {
  const storedRuns = ctx.history > 0 ? ctx.history : spec.storedRuns;
  const choice = { engines: 0, withEngines: false, historyRuns: storedRuns };
  return onFreshStack(ctx, spec.name, choice, async (run) => {
    const { label, stack } = run;
    const monitor = run.monitor();
    ctx.say(`${label}: marking 2 % of the history FAILED`);
    await monitor.query(SHAPE_SQL);
    await monitor.query('vacuum analyze workflow_runs');
    const correlationIds = (
      await monitor.query<{ c: string }>(
        'select correlation_id as c from workflow_runs tablesample system (1) limit $1',
        [spec.requests],
      )
    ).map((r) => r.c);
    const keys = (
      await monitor.query<{ k: string }>(
        'select idempotency_key as k from workflow_runs where idempotency_key is not null limit $1',
        [spec.requests],
      )
    ).map((r) => r.k);
    const [clock] = await monitor.query<{ end: number }>(
      'select extract(epoch from max(created_at))::float8 * 1000 as "end" from workflow_runs',
    );
    const queries = buildQueries({ correlationIds, keys, end: clock?.end ?? Date.now() });
    const client = createJsonClient(stack.apiUrl, 1);
    const problems: string[] = [];
    const deadline = Date.now() + spec.timeoutMs;
    const window = await openBudgetWindow(stack);
    const rows = [];
    try {
      for (const query of queries) {
        const times: number[] = [];
        let items = 0;
        for (let i = 0; i < WARMUP_REQUESTS + spec.requests; i++) {
          const response = await beforeDeadline(client.get(query.path(i)), deadline, `${label}: ${query.name}`);
          if (response.status !== 200) {
            problems.push(`${query.name}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
            break;
          }
          if (i >= WARMUP_REQUESTS) times.push(response.receivedAt - response.sentAt);
          const body = response.body as { items?: unknown[]; total?: number };
          items += body.items?.length ?? body.total ?? 0;
        }
        if (times.length === 0) continue;
        const d = describeDistribution(times);
        const row = {
          query: query.name,
          endpoint: query.endpoint,
          budgetMs: query.budgetMs,
          p50: round(d.p50),
          p99: round(d.p99),
          max: round(d.max),
          meanResults: round(items / (WARMUP_REQUESTS + spec.requests)),
        };
        rows.push(row);
        ctx.say(
          `${label}: ${row.endpoint} ${row.query}: p50 ${row.p50} ms, p99 ${row.p99} ms, max ${row.max} ms (budget ${row.budgetMs})`,
        );
      }
    } finally {
      client.close();
    }
    const requests = rows.length * spec.requests;
    return await budgetResult(ctx, spec, run, window, {
      units: requests,
      runs: 0,
      problems,
      budget: { kind: 'search', storedRuns, requests: spec.requests, queries: rows },
    });
  });
}
