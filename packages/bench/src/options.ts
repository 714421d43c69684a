import { parseArgs } from 'node:util';
import {
  BUDGET_SCENARIOS,
  DEFAULT_SCENARIOS,
  HISTORY_BUDGET_SCENARIOS,
  SCENARIO_NAMES,
  type ScenarioName,
} from './scenarios.js';

export interface BenchOptions {
  scenarios: ScenarioName[];
  repeat: number;
  engines: number;
  /** overrides N of the saga scenarios (smoke runs) */
  runs: number | undefined;
  warmup: number;
  startSeconds: number;
  postgres: 'url' | 'embedded';
  profile: boolean;
  /** write V8 sampling heap profiles (allocations, collected objects included) of API and engines over the window */
  allocProfile: boolean;
  serviceEnv: Record<string, string>;
  /** extra node command-line flags for API and engines (V8 flags included, which NODE_OPTIONS refuses) */
  nodeFlags: string[];
  outDir: string;
  label: string | undefined;
  keepDatabase: boolean;
  /** completed runs of the workload filled into each scenario's fresh database before its warm-up (a table as after months of use) */
  history: number;
  /** runs sleeping (a year) in each scenario's database during the measurement */
  sleeping: number;
  /** before each scenario, wait up to this long for the machine to be quiet (other work on the same cores skews every figure) */
  idleWaitSeconds: number;
  /** run API and engine as esbuild bundles with plain node (the default, like the image) instead of the sources through tsx */
  compiled: boolean;
  /** run API and engine from `pnpm build`'s dist with the workspace's node_modules: the image's very files */
  dist: boolean;
}

export const USAGE = `pnpm bench [options]
  --scenario <names>   comma list of ${SCENARIO_NAMES.join(', ')}
                       (default: ${DEFAULT_SCENARIOS.join(', ')}; \`history-budgets\` = ${HISTORY_BUDGET_SCENARIOS.join(', ')};
                       \`budgets\` = every budget of SPEC §18: ${BUDGET_SCENARIOS.join(', ')})
                       Budgets of SPEC §18 (docs/performance.md), each printed with met / not met:
                         history-cost 7 bursts of 2,000 runs on one stack, history stored and history rows dropped
                                      by a trigger in turn: cost ≤ 10 % of the steps/s, write transactions/step not
                                      above the dropped bursts'
                         events-read  GET /v1/runs/{id}/events p99 of random runs among 1,000,000 stored (filled
                                      first, with their history; --history N for another size), 4 in flight, 5,000
                                      requests, API only
                         sse-delay    300 runs at 20 runs/s (downstream answers in 50 ms), each watched by an SSE stream:
                                      event \`at\` → arrival at the client, p50/p99
                         sse-memory   500 SSE streams held open 20 s on one API (runs left PENDING): RSS and heap growth
                         search       GET /v1/runs with each single filter (12 queries) and one-day counts, 200
                                      sequential requests each, API only, 1,000,000 runs stored (--history N for
                                      another size): p99 ≤ 50 ms (counts ≤ 200 ms)
                         sleeping-burst 3 pairs of bursts (2,000 runs, fresh stacks, order alternating), one with no
                                      sleeping run, one with 100,000 sleeping for a year: steps/s within ± 10 %, the
                                      engine's peak RSS of each
                         bulk-redrive 10,000 FAILED runs (seeded through the API) redriven at 1,000/s by one bulk
                                      operation: time to COMPLETED, and a 3,000-run burst's steps/s alone vs with it
  --repeat <n>         run each scenario n times; the table shows medians (default 1)
  --engines <n>        engine processes (default 1)
  --runs <n>           N of the saga scenarios instead of 2000 / 500 / 300 (smoke runs); requests of events-read,
                       runs of sse-delay, streams of sse-memory, burst runs of history-cost, requests per query of
                       search, sleeping runs of sleeping-burst, FAILED runs of bulk-redrive
  --warmup <n>         runs started and finished before each measurement (default 1000: V8 has optimised the hot
                       paths by then; 0 = none)
  --start-seconds <s>  autocannon duration of start-rate (default 10)
  --postgres <mode>    url: a fresh database on DATABASE_URL's server (default when it is set);
                       embedded: a local Postgres with pg_stat_statements (default otherwise)
  --sources            run API and engine from the .ts sources through tsx (as pnpm dev does) instead of as
                       compiled bundles on plain node with the image's MALLOC_ARENA_MAX=2 and --max-semi-space-size=4 (the default)
  --dist               run API and engine from \`pnpm build\`'s dist with node_modules, the files the image runs
                       (docker/entrypoint.sh), instead of bundles; run \`pnpm build\` first
  --profile            write V8 CPU profiles of API and engines (node --cpu-prof) and summarise them
  --alloc-profile      saga scenarios: sample what API and engines allocate during the measured window (V8's sampling
                       heap profiler, freed objects included) and summarise it by function (alloc-sampler.mjs)
  --env KEY=VALUE      extra environment for API and engines (repeatable), e.g. ENGINE_CONCURRENCY=64
  --node-flag=FLAG     extra node flag for API and engines (repeatable; with "=", as the flag starts with a dash),
                       e.g. --node-flag=--optimize-for-size: V8's own flags too, which NODE_OPTIONS refuses
  --out <dir>          results folder (default bench-results)
  --label <text>       a name for this invocation in the report
  --keep-db            keep the scenario databases instead of dropping them
  --history <n>        before each scenario's warm-up, fill its fresh database with n completed runs of the workload
                       (3 steps, 3 attempts each; not measured), then VACUUM ANALYZE (default 0 = an empty database)
  --sleeping <n>       before each scenario's warm-up, fill its database with n runs that sleep for a year (their
                       step waits, their item is due in a year; not measured) — SPEC §18: they must not change the
                       figures beyond ±10 % (default 0)
  --idle-wait <s>      before each scenario, wait up to s seconds for the machine to be < 25 % busy (default 60; 0 = don't)`;

function positiveInt(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/** Parses the bench's command line (throws with a message naming the bad option). */
export function parseBenchOptions(argv: string[], databaseUrl: string | undefined): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string', multiple: true },
      repeat: { type: 'string' },
      engines: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      'start-seconds': { type: 'string' },
      postgres: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'alloc-profile': { type: 'boolean', default: false },
      sources: { type: 'boolean', default: false },
      dist: { type: 'boolean', default: false },
      env: { type: 'string', multiple: true },
      'node-flag': { type: 'string', multiple: true },
      out: { type: 'string' },
      label: { type: 'string' },
      'keep-db': { type: 'boolean', default: false },
      history: { type: 'string' },
      sleeping: { type: 'string' },
      'idle-wait': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new Error(USAGE);
  if (values.sources && values.dist) throw new Error('--sources and --dist exclude each other');
  const scenarios = (values.scenario ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((s): string[] =>
      s === 'history-budgets' ? [...HISTORY_BUDGET_SCENARIOS] : s === 'budgets' ? [...BUDGET_SCENARIOS] : [s],
    );
  for (const name of scenarios)
    if (!SCENARIO_NAMES.includes(name as ScenarioName))
      throw new Error(`unknown scenario "${name}" (use ${SCENARIO_NAMES.join(', ')})`);
  const postgres = values.postgres ?? (databaseUrl ? 'url' : 'embedded');
  if (postgres !== 'url' && postgres !== 'embedded')
    throw new Error(`--postgres must be url or embedded, got "${postgres}"`);
  if (postgres === 'url' && !databaseUrl) throw new Error('--postgres url needs DATABASE_URL');
  const serviceEnv: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--env needs KEY=VALUE, got "${pair}"`);
    serviceEnv[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const nodeFlags = values['node-flag'] ?? [];
  for (const flag of nodeFlags)
    if (!/^--[a-z0-9]/.test(flag))
      throw new Error(`--node-flag needs a flag such as --max-semi-space-size=8, got "${flag}"`);
  return {
    scenarios: scenarios.length ? (scenarios as ScenarioName[]) : [...DEFAULT_SCENARIOS],
    repeat: positiveInt(values.repeat, 'repeat', 1),
    engines: positiveInt(values.engines, 'engines', 1),
    runs: values.runs === undefined ? undefined : positiveInt(values.runs, 'runs', 0),
    warmup: positiveInt(values.warmup, 'warmup', 1000, 0),
    startSeconds: positiveInt(values['start-seconds'], 'start-seconds', 10),
    postgres,
    profile: values.profile,
    allocProfile: values['alloc-profile'],
    serviceEnv,
    nodeFlags,
    outDir: values.out ?? 'bench-results',
    label: values.label,
    keepDatabase: values['keep-db'],
    history: positiveInt(values.history, 'history', 0, 0),
    sleeping: positiveInt(values.sleeping, 'sleeping', 0, 0),
    compiled: !values.sources,
    dist: values.dist,
    idleWaitSeconds: positiveInt(values['idle-wait'], 'idle-wait', 60, 0),
  };
}
