// The durable floor of `pnpm bench:versus` (issue #17): the least any orchestrator can do for the 3-step saga if it
// records each step durably before it calls the next one, as SagaFlow must (docs/delivery.md). One process, no queue,
// no NOTIFY, no history, no lease: a run is one row inserted (its created_at), then for each step one HTTP call to the
// bench downstream and one autocommitted UPDATE (a durable commit: synchronous_commit stays on); the last one stamps
// completed_at with its transaction's start, as SagaFlow's and graphile-worker's are. Its latency is what the machine's
// round trips cost; what SagaFlow takes above it is SagaFlow's own work.
import pg from 'pg';
import { Agent, request } from 'undici';
import { createBenchDatabase } from './bench-database.js';
import { describeDistribution, type Distribution } from './percentiles.js';
import { startDownstream } from './service-stack.js';

const STEPS = ['/charge', '/reserve', '/notify'] as const;

export interface FloorOptions {
  adminUrl: string;
  logDir: string;
  warmupRuns: number;
  runs: number;
  perSecond: number;
}

/** Runs `warmupRuns` (16 in flight), then `runs` offered at `perSecond`; the latency distribution of the latter, ms. */
export async function durableFloorTrial(options: FloorOptions): Promise<Distribution> {
  const database = await createBenchDatabase(options.adminUrl, 'floor');
  const pool = new pg.Pool({ connectionString: database.url, max: 16 });
  pool.on('error', () => {});
  const downstream = await startDownstream(options.logDir).catch(async (error: unknown) => {
    await pool.end();
    await database.drop();
    throw error;
  });
  const downstreamUrl = downstream.url;
  const agent = new Agent({ connections: 32, keepAliveTimeout: 60_000 });
  try {
    await pool.query(
      `create table bench_floor_runs (id int primary key, created_at timestamptz not null default now(),
                                      step int not null default 0, completed_at timestamptz)`,
    );
    const runOne = async (id: number): Promise<void> => {
      await pool.query('insert into bench_floor_runs (id) values ($1)', [id]);
      for (const [index, path] of STEPS.entries()) {
        const response = await request(`${downstreamUrl}${path}`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', 'x-idempotency-key': `${id}:${path}` },
          body: JSON.stringify({ runId: id, step: path }),
        });
        await response.body.text();
        if (response.statusCode >= 300) throw new Error(`${path} answered ${response.statusCode}`);
        await pool.query(
          'update bench_floor_runs set step = $2, completed_at = case when $2 = 3 then now() end where id = $1',
          [id, index + 1],
        );
      }
    };
    let next = 1;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next <= options.warmupRuns) await runOne(next++);
      }),
    );
    const from = 1_000_000;
    const began = performance.now();
    const runs: Array<Promise<void>> = [];
    for (let i = 0; i < options.runs; i++) {
      const wait = began + (i * 1000) / options.perSecond - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      runs.push(runOne(from + i));
    }
    await Promise.all(runs);
    const { rows } = await pool.query<{ ms: number }>(
      'select extract(epoch from completed_at - created_at)::float8 * 1000 as ms from bench_floor_runs where id >= $1',
      [from],
    );
    return describeDistribution(rows.map((r) => r.ms));
  } finally {
    await agent.close();
    await downstream.child.stop();
    await pool.end();
    await database.drop();
  }
}
