import { BenchMonitor } from './bench-monitor.js';
import { createJsonClient } from './http-client.js';
import type { ServiceStack } from './service-stack.js';

/** The workflow of the --sleeping runs (their outbox items stay, due in a year: not a leftover). */
export const SLEEP_WORKFLOW_NAME = 'bench-sleep';

/** The workflow of the sleeping runs: one step that sleeps a year (docs/contract.md#durable-waits). */
const SLEEP_WORKFLOW = {
  name: SLEEP_WORKFLOW_NAME,
  version: '1.0.0',
  description: 'pnpm bench --sleeping: runs that sleep while the workload is measured',
  steps: [{ id: 'nap', sleep: { durationMs: 31_536_000_000 } }],
};

/** Runs inserted per statement. */
const SLEEPING_CHUNK = 50_000;

/**
 * One chunk of sleeping runs ($1 of them, of $2@$3): each RUNNING, its step RUNNING and waiting (wait_for sleep,
 * wait_until in a year), its outbox item READY, unleased, due in a year, with the history the engine writes
 * (RUN_CREATED, RUN_STATUS_CHANGED, STEP_WAITING): what the product leaves for a run that began to sleep.
 */
const CHUNK_SQL = `
  with run as materialized (
    select gen_random_uuid() as id, g as seq, now() + interval '365 days' as until from generate_series(1, $1::int) g
  ), runs_in as (
    insert into workflow_runs (id, workflow_name, workflow_version, status, input, correlation_id, event_seq)
    select id, $2::text, $3::text, 'RUNNING', jsonb_build_object('phase', 'sleeping', 'seq', seq), 'sleep-' || seq, 3
      from run
  ), steps_in as (
    insert into run_steps (run_id, step_index, step_id, status, compensation_status, started_at, wait_for, wait_until)
    select id, 0, 'nap', 'RUNNING', 'NONE', now(), 'sleep', until from run
  ), outbox_in as (
    insert into outbox (run_id, step_index, kind, due_at) select id, 0, 'action', until from run
  ), events_in as (
    insert into run_events (run_id, seq, type, step_id, kind, data)
    select id, 1, 'RUN_CREATED', null, null,
           jsonb_build_object('workflowName', $2::text, 'workflowVersion', $3::text, 'correlationId', 'sleep-' || seq,
                              'idempotencyKey', null) from run
    union all
    select id, 2, 'RUN_STATUS_CHANGED', null, null, '{"from": "PENDING", "to": "RUNNING", "error": null}'::jsonb from run
    union all
    select id, 3, 'STEP_WAITING', 'nap', 'action', jsonb_build_object('waitFor', 'sleep', 'until', until) from run
  )
  select (select count(*) from run)::int as runs`;

/**
 * `--sleeping n`: registers bench-sleep and fills the scenario's database with n runs sleeping for a year (not
 * measured: the bench reads only its own phases), then VACUUM ANALYZE. The measurement then shows what they cost
 * the workload (SPEC §18: nothing beyond ±10 %).
 */
export async function fillSleeping(stack: ServiceStack, url: string, runs: number, say: (text: string) => void) {
  const client = createJsonClient(stack.apiUrl, 1);
  try {
    const response = await client.post('/v1/admin/workflows', SLEEP_WORKFLOW, { 'x-admin-token': stack.adminToken });
    // 200: registered by an earlier fill of this database (sleeping-burst fills it more than once)
    if (response.status !== 201 && response.status !== 200)
      throw new Error(`registering bench-sleep answered ${response.status}: ${JSON.stringify(response.body)}`);
  } finally {
    client.close();
  }
  const monitor = new BenchMonitor(url);
  try {
    const started = performance.now();
    for (let done = 0; done < runs; done += SLEEPING_CHUNK) {
      const count = Math.min(SLEEPING_CHUNK, runs - done);
      await monitor.query(CHUNK_SQL, [count, SLEEP_WORKFLOW.name, SLEEP_WORKFLOW.version]);
      say(`sleeping: ${done + count}/${runs} runs`);
    }
    await monitor.query('vacuum analyze workflow_runs, run_steps, outbox, run_events');
    const fillMs = Math.round(performance.now() - started);
    say(`sleeping: ${runs} runs filled and analysed in ${(fillMs / 1000).toFixed(1)} s`);
    return { runs, fillMs };
  } finally {
    await monitor.close();
  }
}
