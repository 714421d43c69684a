// The comparison side of `pnpm bench:versus`: the same 3-step saga (charge → reserve → notify on the bench
// downstream) as graphile-worker jobs, each task calling its step and adding the next job; the last one stamps the
// run's completed_at (its transaction's start, as SagaFlow's completed_at is). "Batched": graphile-worker's local
// queue (jobs fetched in batches) and batched job completion. No compensation, no idempotency key store, no history:
// a plain job queue, the baseline the issue compares with.
// Scripts may read process.env; this file is a child-process entry, not library code.
import { run, type Task } from 'graphile-worker';
import { Agent, request } from 'undici';

const connectionString = process.env.DATABASE_URL ?? '';
const downstreamUrl = process.env.BENCH_DOWNSTREAM_URL ?? '';
const concurrency = Number(process.env.GW_CONCURRENCY ?? '16');
const agent = new Agent({ connections: concurrency * 2, keepAliveTimeout: 60_000 });

interface RunPayload {
  runId: number;
}

async function callStep(path: string, payload: RunPayload): Promise<void> {
  const response = await request(`${downstreamUrl}${path}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', 'x-idempotency-key': `${payload.runId}:${path}` },
    body: JSON.stringify({ runId: payload.runId, step: path }),
  });
  await response.body.text();
  if (response.statusCode >= 300) throw new Error(`${path} answered ${response.statusCode}`);
}

const step =
  (path: string, next: string | null): Task =>
  async (payload, helpers) => {
    const run = payload as RunPayload;
    await callStep(path, run);
    if (next) await helpers.addJob(next, run);
    else
      await helpers.withPgClient((client) =>
        client.query('update bench_gw_runs set completed_at = now() where id = $1', [run.runId]),
      );
  };

const runner = await run({
  connectionString,
  concurrency,
  noHandleSignals: true,
  pollInterval: 2000,
  taskList: { charge: step('/charge', 'reserve'), reserve: step('/reserve', 'notify'), notify: step('/notify', null) },
  preset: { worker: { localQueue: { size: concurrency + 1 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
});
process.stdout.write(`${JSON.stringify({ msg: 'graphile-worker running', concurrency })}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void runner.stop().then(() => process.exit(0));
  });
}
