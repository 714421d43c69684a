import { BenchMonitor } from './bench-monitor.js';
import { BENCH_WORKFLOW } from './workload.js';

/** Runs inserted per statement (each its own transaction). */
export const HISTORY_CHUNK = 100_000;
/** The history's created_at values are spread evenly over this span, ending a minute before the fill. */
const HISTORY_SPAN_MS = 7 * 24 * 3600 * 1000;

/** What --history did to one scenario's database (results.json). */
export interface HistoryFill {
  runs: number;
  /** the inserts */
  fillMs: number;
  /** VACUUM ANALYZE of the four tables and the CHECKPOINT after it */
  vacuumMs: number;
}

/**
 * One chunk of history: runs $1..$2 of $3, each a COMPLETED run of the bench workflow ($4@$5) as the product leaves
 * it (compare a measured run): its 3 steps SUCCEEDED after 1 attempt (compensations of charge and reserve still
 * PENDING, notify NONE, output {"ok":true}) and one successful action attempt each; its six history events (RUN_CREATED,
 * PENDING → RUNNING, three ATTEMPT_FINISHED, RUNNING → COMPLETED); no outbox rows. Run g is created
 * ($3 − g) × $7 ms before $6 (plus 0..12 ms), so the history ends at $6 and its rows lie in (about) created_at order. The
 * input has phase "history": the bench's reads (input->>'phase' = 'warmup' | 'measure') never see these runs. The
 * context names one of 500 tenants (what bench:search looks for).
 * One statement: the foreign keys and CHECK constraints are checked as for any insert.
 */
const CHUNK_SQL = `
  with run as materialized (
    -- UUIDv7 ids from created_at, as the API makes them (48-bit millisecond time, version 7, random rest)
    select (substr(t.hex, 1, 8) || '-' || substr(t.hex, 9, 4) || '-7' || substr(gen_random_uuid()::text, 16))::uuid as id,
           t.seq, t.created_at, gen_random_uuid()::text as correlation_id
      from (select c.seq, c.created_at, lpad(to_hex((extract(epoch from c.created_at) * 1000)::bigint), 12, '0') as hex
              from (select g as seq, $6::timestamptz - (($3::int - g) * $7::float8 - g % 13) * interval '1 millisecond' as created_at
                      from generate_series($1::int, $2::int) as g) c) t
  ), step (step_index, step_id, compensation_status, started_ms, finished_ms, attempt_started_ms, attempt_finished_ms) as (
    values (0, 'charge', 'PENDING', 20, 100, 25, 90),
           (1, 'reserve', 'PENDING', 100, 160, 110, 150),
           (2, 'notify', 'NONE', 160, 185, 165, 178)
  ), runs_in as (
    insert into workflow_runs (id, workflow_name, workflow_version, status, input, context, error, correlation_id,
                               created_at, updated_at, completed_at, event_seq)
    select id, $4::text, $5::text, 'COMPLETED',
           jsonb_build_object('phase', 'history', 'seq', seq, 'orderId', 'bench-history-' || seq, 'amount', 1999,
                              'currency', 'EUR', 'customerId', 'c-' || (seq % 97)),
           jsonb_build_object('tenantId', 't-' || (seq % 500)), null, correlation_id,
           created_at, created_at + interval '185 milliseconds', created_at + interval '185 milliseconds', 6
      from run order by seq
  ), steps_in as (
    insert into run_steps (run_id, step_index, step_id, status, attempts, attempts_before_retry, compensation_status,
                           compensation_attempts, compensation_attempts_before_retry, output, error, compensation_error,
                           started_at, finished_at, compensated_at)
    select run.id, step.step_index, step.step_id, 'SUCCEEDED', 1, 0, step.compensation_status, 0, 0, '{"ok":true}'::jsonb,
           null, null,
           run.created_at + step.started_ms * interval '1 millisecond', run.created_at + step.finished_ms * interval '1 millisecond', null
      from run cross join step order by run.seq, step.step_index
  ), attempts_in as (
    insert into step_attempts (run_id, step_index, kind, attempt_no, outcome, http_status, error, started_at, finished_at)
    select run.id, step.step_index, 'action', 1, 'SUCCEEDED', 200, null,
           run.created_at + step.attempt_started_ms * interval '1 millisecond', run.created_at + step.attempt_finished_ms * interval '1 millisecond'
      from run cross join step order by run.seq, step.step_index
  ), events_in as (
    -- the six events of a 3-step success, in the SPEC's order (docs/contract.md#run-history), at the times above
    insert into run_events (run_id, seq, at, type, step_id, kind, attempt, data)
    select run.id, e.seq, run.created_at + e.at_ms * interval '1 millisecond', e.type, e.step_id, e.kind, e.attempt,
           case e.type
             when 'RUN_CREATED' then jsonb_build_object('workflowName', $4::text, 'workflowVersion', $5::text,
                                                        'correlationId', run.correlation_id, 'idempotencyKey', null)
             when 'ATTEMPT_FINISHED' then jsonb_build_object(
               'outcome', 'SUCCEEDED', 'httpStatus', 200,
               'startedAt', to_char((run.created_at + e.started_ms * interval '1 millisecond') at time zone 'UTC',
                                    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'durationMs', e.duration_ms, 'error', null, 'nextAttemptAt', null,
               'stepStatus', 'SUCCEEDED', 'compensationStatus', e.compensation_status)
             else e.data
           end
      from run cross join (values
        (1, 0, 'RUN_CREATED', null, null, null::int, null::int, null::int, null, null::jsonb),
        (2, 20, 'RUN_STATUS_CHANGED', null, null, null, null, null, null, '{"from": "PENDING", "to": "RUNNING", "error": null}'),
        (3, 100, 'ATTEMPT_FINISHED', 'charge', 'action', 1, 25, 65, 'PENDING', null),
        (4, 160, 'ATTEMPT_FINISHED', 'reserve', 'action', 1, 110, 40, 'PENDING', null),
        (5, 185, 'ATTEMPT_FINISHED', 'notify', 'action', 1, 165, 13, 'NONE', null),
        (6, 185, 'RUN_STATUS_CHANGED', null, null, null, null, null, null, '{"from": "RUNNING", "to": "COMPLETED", "error": null}')
      ) as e (seq, at_ms, type, step_id, kind, attempt, started_ms, duration_ms, compensation_status, data)
     order by run.seq, e.seq
  )
  select (select count(*) from run)::int as runs`;

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/**
 * Fills a scenario's fresh database with `runs` completed runs of the bench workflow (registered before), in chunks
 * of `chunk` runs per statement, then VACUUM ANALYZE (so the planner knows the tables' size and autovacuum has
 * nothing left to do during the measurement) and a CHECKPOINT (so the fill's dirty pages are not written meanwhile).
 */
export async function fillHistory(
  url: string,
  runs: number,
  say: (text: string) => void,
  chunk = HISTORY_CHUNK,
): Promise<HistoryFill> {
  const monitor = new BenchMonitor(url);
  try {
    const started = performance.now();
    const [clock] = await monitor.query<{ end: string }>(`select (now() - interval '1 minute')::text as "end"`);
    const spacingMs = HISTORY_SPAN_MS / runs;
    const statements = Math.ceil(runs / chunk);
    say(
      `history: filling ${runs} completed runs (${statements} statement${statements === 1 ? '' : 's'} of up to ${chunk} runs)`,
    );
    for (let first = 1; first <= runs; first += chunk) {
      const last = Math.min(runs, first + chunk - 1);
      const [row] = await monitor.query<{ runs: number }>(CHUNK_SQL, [
        first,
        last,
        runs,
        BENCH_WORKFLOW.name,
        BENCH_WORKFLOW.version,
        clock?.end,
        spacingMs,
      ]);
      if (row?.runs !== last - first + 1)
        throw new Error(`history: inserted ${row?.runs} runs for ${last - first + 1}`);
      const elapsed = performance.now() - started;
      say(`history: ${last}/${runs} runs (${seconds(elapsed)} s, ${Math.round(last / (elapsed / 1000))} runs/s)`);
    }
    const fillMs = performance.now() - started;
    say(`history: vacuum analyze`);
    const vacuumStarted = performance.now();
    await monitor.query('vacuum analyze workflow_runs, run_steps, step_attempts, run_events');
    try {
      await monitor.query('checkpoint');
    } catch (error) {
      say(
        `history: checkpoint not allowed (${error instanceof Error ? error.message : String(error)}); measuring anyway`,
      );
    }
    const vacuumMs = performance.now() - vacuumStarted;
    say(
      `history: ${runs} runs filled in ${seconds(fillMs)} s (${Math.round(runs / (fillMs / 1000))} runs/s), vacuum analyze + checkpoint ${seconds(vacuumMs)} s`,
    );
    return { runs, fillMs: Math.round(fillMs), vacuumMs: Math.round(vacuumMs) };
  } finally {
    await monitor.close();
  }
}
