// pnpm bench:versus — SagaFlow against graphile-worker (batched) on the same machine, in the same minutes, trials
// interleaved (issue #17): the SagaFlow side is `pnpm bench --scenario burst,latency` (compiled API and engine); the
// graphile-worker side runs the same 3-step saga on the same downstream as chained jobs
// (graphile-worker-process.ts). Latency is the database's created_at → completed_at on both sides.
// Scripts may read process.env; this file is a command-line entry, not library code.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { makeWorkerUtils } from 'graphile-worker';
import { bundleEntry } from './bundle-services.js';
import { startBenchChild, type BenchChild } from './child-process.js';
import { createBenchDatabase } from './bench-database.js';
import { durableFloorTrial } from './durable-floor.js';
import { describeDistribution, median } from './percentiles.js';
import { inheritedEnv, startDownstream } from './service-stack.js';

const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));

interface Trial {
  burstStepsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** peak RSS of the processes of the latency scenario (SagaFlow: API + engine; graphile-worker: the worker), whole life */
  peakRssMb: number;
  /** the same, within the 20 runs/s window only (VmHWM reset when it began: the warm-up's burst left out) */
  windowPeakRssMb: number;
}

const { values: args } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    runs: { type: 'string', default: '300' },
    'burst-runs': { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '32' },
    out: { type: 'string', default: 'bench-results' },
    // SagaFlow from `pnpm build`'s dist (the image's files) instead of the bench's bundles; run pnpm build first
    dist: { type: 'boolean', default: false },
  },
});
const repeat = Number(args.repeat);
const latencyRuns = Number(args.runs);
const burstRuns = Number(args['burst-runs']);
const warmupRuns = Number(args.warmup);
const perSecond = Number(args.rate);
const concurrency = Number(args.concurrency);
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  process.stderr.write('pnpm bench:versus needs DATABASE_URL (a Postgres server where it may create databases)\n');
  process.exit(2);
}
const log = (text: string): void => void process.stdout.write(`versus │ ${text}\n`);

/** `pnpm bench --scenario <scenario> --runs <runs>` once; its medians from results.json. */
async function benchScenario(scenario: 'burst' | 'latency', runs: number, outDir: string): Promise<BenchMedians> {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  const flags = ['--scenario', scenario, '--runs', String(runs), '--warmup', String(warmupRuns), '--idle-wait', '0'];
  if (args.dist) flags.push('--dist');
  const bench = spawn(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', cli, ...flags, '--out', outDir],
    { stdio: ['ignore', 'ignore', 'inherit'], cwd: BENCH_DIR },
  );
  const code = await new Promise<number | null>((done) => bench.once('exit', done));
  if (code !== 0) throw new Error(`pnpm bench --scenario ${scenario} exited ${code} (see ${outDir})`);
  const [run] = await readdir(outDir);
  const results = JSON.parse(await readFile(join(outDir, run!, 'results.json'), 'utf8')) as { medians: BenchMedians[] };
  const figures = results.medians.find((m) => m.scenario === scenario);
  if (!figures) throw new Error(`pnpm bench wrote no ${scenario} figures`);
  return figures;
}

interface BenchMedians {
  scenario: string;
  unitsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  apiPeakRssMb: number;
  enginePeakRssMb: number;
  apiWindowPeakRssMb: number;
  engineWindowPeakRssMb: number;
}

/** One SagaFlow trial: the bench's own burst and latency scenarios (compiled services, fresh stack each). */
async function sagaflowTrial(outDir: string): Promise<Trial> {
  const burst = await benchScenario('burst', burstRuns, join(outDir, 'burst'));
  const latency = await benchScenario('latency', latencyRuns, join(outDir, 'latency'));
  return {
    burstStepsPerSecond: burst.unitsPerSecond,
    p50: latency.p50,
    p95: latency.p95,
    p99: latency.p99,
    peakRssMb: latency.apiPeakRssMb + latency.enginePeakRssMb,
    windowPeakRssMb: latency.apiWindowPeakRssMb + latency.engineWindowPeakRssMb,
  };
}

/** A fresh database with graphile-worker's schema and the runs table; the downstream and one worker process. */
async function graphileStack(workerBundle: string, logDir: string) {
  // a fresh database as for the bench's scenarios (it also gets SagaFlow's tables, unused here)
  const database = await createBenchDatabase(adminUrl!, 'gw');
  const url = database.url;
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  // pool.end() resolves once it has asked its idle clients to close, not once they have: the database's drop (with
  // force) can still terminate one, whose error an unheard pool throws (it ended a versus run at its first trial)
  pool.on('error', () => {});
  await pool.query(
    'create table bench_gw_runs (id int primary key, created_at timestamptz not null default now(), completed_at timestamptz)',
  );
  const utils = await makeWorkerUtils({ connectionString: url });
  await utils.migrate();
  await utils.release();
  await mkdir(logDir, { recursive: true });
  const downstream = await startDownstream(logDir);
  const children: BenchChild[] = [downstream.child];
  const downstreamUrl = downstream.url;
  const worker = startBenchChild({
    name: 'graphile-worker',
    entry: workerBundle,
    logFile: join(logDir, 'graphile-worker.log'),
    // as the bench runs SagaFlow's services (the image's settings)
    env: {
      ...inheritedEnv(),
      MALLOC_ARENA_MAX: '2',
      NODE_OPTIONS: '--max-semi-space-size=4',
      DATABASE_URL: url,
      BENCH_DOWNSTREAM_URL: downstreamUrl,
      GW_CONCURRENCY: String(concurrency),
    },
  });
  children.push(worker);
  const start = (id: number): Promise<unknown> =>
    pool.query(
      "with run as (insert into bench_gw_runs (id) values ($1)) select graphile_worker.add_job('charge', json_build_object('runId', $1::int))",
      [id],
    );
  const waitDone = async (from: number, to: number, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await pool.query<{ left: string }>(
        'select count(*) as left from bench_gw_runs where id >= $1 and id < $2 and completed_at is null',
        [from, to],
      );
      if (Number(rows[0]!.left) === 0) return;
      if (Date.now() > deadline) throw new Error(`graphile-worker: ${rows[0]!.left} runs not done in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const closedLoop = async (from: number, count: number, inFlight: number): Promise<void> => {
    let next = from;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < from + count) await start(next++);
      }),
    );
  };
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((child) => child.stop()));
    await pool.end();
    await database.drop();
  };
  return { pool, worker, start, waitDone, closedLoop, stop };
}

async function graphileTrial(workerBundle: string, logDir: string): Promise<Trial> {
  // burst: warm-up, then burstRuns started by 16 clients (as the bench's burst), steps/s over created → completed
  const burstStack = await graphileStack(workerBundle, join(logDir, 'burst'));
  let burstStepsPerSecond: number;
  try {
    await burstStack.closedLoop(1, warmupRuns, 16);
    await burstStack.waitDone(1, warmupRuns + 1, 120_000);
    const from = 1_000_000;
    await burstStack.closedLoop(from, burstRuns, 16);
    await burstStack.waitDone(from, from + burstRuns, 180_000);
    const { rows } = await burstStack.pool.query<{ ms: number }>(
      'select extract(epoch from max(completed_at) - min(created_at)) * 1000 as ms from bench_gw_runs where id >= $1',
      [from],
    );
    burstStepsPerSecond = (3 * burstRuns) / (Number(rows[0]!.ms) / 1000);
  } finally {
    await burstStack.stop();
  }
  // latency: warm-up, then latencyRuns offered at perSecond (open loop)
  const stack = await graphileStack(workerBundle, join(logDir, 'latency'));
  try {
    await stack.closedLoop(1, warmupRuns, 16);
    await stack.waitDone(1, warmupRuns + 1, 120_000);
    const from = 1_000_000;
    const peakBefore = (await stack.worker.memory()).peakRssMb;
    await stack.worker.resetPeakMemory();
    const began = performance.now();
    const starts: Promise<unknown>[] = [];
    for (let i = 0; i < latencyRuns; i++) {
      const due = began + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      starts.push(stack.start(from + i));
    }
    await Promise.all(starts);
    await stack.waitDone(from, from + latencyRuns, 120_000);
    const { rows } = await stack.pool.query<{ ms: number }>(
      'select extract(epoch from completed_at - created_at) * 1000 as ms from bench_gw_runs where id >= $1',
      [from],
    );
    const latency = describeDistribution(rows.map((r) => Number(r.ms)));
    const windowPeak = (await stack.worker.memory()).peakRssMb;
    return {
      burstStepsPerSecond,
      p50: latency.p50,
      p95: latency.p95,
      p99: latency.p99,
      peakRssMb: Math.max(peakBefore, windowPeak),
      windowPeakRssMb: windowPeak,
    };
  } finally {
    await stack.stop();
  }
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);
const row = (label: string, t: Trial): string =>
  `| ${label} | ${fmt(t.burstStepsPerSecond, 0)} | ${fmt(t.p50)} / ${fmt(t.p95)} / ${fmt(t.p99)} | ${fmt(t.peakRssMb, 0)} | ${fmt(t.windowPeakRssMb, 0)} |`;
const medianTrial = (trials: Trial[]): Trial => ({
  burstStepsPerSecond: median(trials.map((t) => t.burstStepsPerSecond)),
  p50: median(trials.map((t) => t.p50)),
  p95: median(trials.map((t) => t.p95)),
  p99: median(trials.map((t) => t.p99)),
  peakRssMb: median(trials.map((t) => t.peakRssMb)),
  windowPeakRssMb: median(trials.map((t) => t.windowPeakRssMb)),
});

const outDir = resolve(args.out, `versus-${new Date().toISOString().replace(/[:.]/g, '-')}`);
await mkdir(outDir, { recursive: true });
const workerBundle = await bundleEntry(
  'packages/bench/src/graphile-worker-process.ts',
  join(BENCH_DIR, 'node_modules/.versus-bundle'),
  { external: true },
);
const sagaflow: Trial[] = [];
const graphile: Trial[] = [];
const floor: Array<{ p50: number; p95: number; p99: number }> = [];
for (let i = 1; i <= repeat; i++) {
  log(`trial ${i}/${repeat}: SagaFlow (pnpm bench --scenario burst,latency)`);
  sagaflow.push(await sagaflowTrial(join(outDir, `sagaflow-${i}`)));
  log(`trial ${i}/${repeat}: graphile-worker`);
  graphile.push(await graphileTrial(workerBundle, join(outDir, `graphile-${i}`)));
  log(`trial ${i}/${repeat}: durable floor`);
  const floorDir = join(outDir, `floor-${i}`);
  await mkdir(floorDir, { recursive: true });
  floor.push(await durableFloorTrial({ adminUrl, logDir: floorDir, warmupRuns, runs: latencyRuns, perSecond }));
}
const s = medianTrial(sagaflow);
const g = medianTrial(graphile);
const f = {
  p50: median(floor.map((t) => t.p50)),
  p95: median(floor.map((t) => t.p95)),
  p99: median(floor.map((t) => t.p99)),
};
const floorRow = (label: string, t: { p50: number; p95: number; p99: number }): string =>
  `| ${label} | – | ${fmt(t.p50)} / ${fmt(t.p95)} / ${fmt(t.p99)} | – | – |`;
const lines = [
  `# SagaFlow against graphile-worker (batched), ${repeat} interleaved trials, medians`,
  '',
  `SagaFlow as ${args.dist ? "`pnpm build`'s dist with node_modules (the image's files)" : 'esbuild bundles'}; burst: ${burstRuns} runs started by 16 clients after ${warmupRuns} warm-up runs; latency: ${latencyRuns} runs offered at ${perSecond}/s; graphile-worker concurrency ${concurrency}, local queue ${concurrency + 1}, batched completion`,
  '',
  `| | burst steps/s | ${perSecond} runs/s: p50 / p95 / p99 ms | peak RSS MB, whole life (warm-up included) | peak RSS MB within the ${perSecond} runs/s window |`,
  '|---|---:|---:|---:|---:|',
  ...sagaflow.map((t, i) => row(`SagaFlow trial ${i + 1}`, t)),
  ...graphile.map((t, i) => row(`graphile-worker trial ${i + 1}`, t)),
  ...floor.map((t, i) => floorRow(`durable floor trial ${i + 1}`, t)),
  row('**SagaFlow (median)**', s),
  row('**graphile-worker (median)**', g),
  floorRow('**durable floor (median)**', f),
  '',
  `durable floor (durable-floor.ts): one process inserting the run and, per step, one HTTP call and one autocommitted UPDATE — the least an orchestrator that records each step before the next can do; p50 SagaFlow / floor ${fmt(s.p50 / f.p50, 2)} ×, graphile-worker / floor ${fmt(g.p50 / f.p50, 2)} ×`,
  '',
  '| target (issue #17) | measured | met |',
  '|---|---:|---|',
  `| burst ≥ 2.5 × graphile-worker's | ${fmt(s.burstStepsPerSecond / g.burstStepsPerSecond, 2)} × | ${s.burstStepsPerSecond >= 2.5 * g.burstStepsPerSecond ? 'yes' : 'no'} |`,
  `| p99 ≤ graphile-worker's p99 | ${fmt(s.p99)} vs ${fmt(g.p99)} ms | ${s.p99 <= g.p99 ? 'yes' : 'no'} |`,
  `| p50 ≤ 0.8 × graphile-worker's p50 | ${fmt(s.p50)} vs ${fmt(0.8 * g.p50)} ms | ${s.p50 <= 0.8 * g.p50 ? 'yes' : 'no'} |`,
  `| API + engine peak RSS ≤ 160 MB at ${perSecond} runs/s (window) | ${fmt(s.windowPeakRssMb, 0)} MB (whole life ${fmt(s.peakRssMb, 0)}) | ${s.windowPeakRssMb <= 160 ? 'yes' : 'no'} |`,
];
await writeFile(
  join(outDir, 'versus.json'),
  JSON.stringify({ sagaflow, graphile, floor, medians: { sagaflow: s, graphile: g, floor: f } }, null, 2),
);
await writeFile(join(outDir, 'summary.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
log(`wrote ${outDir}`);
