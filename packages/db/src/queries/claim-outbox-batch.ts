import { leaseStep, type RunState } from '@sagaflow/saga';
import { sql } from 'kysely';
import { executePrepared, type Db } from '../pool.js';
import type { AttemptKind, RunError, RunStatus } from '../schema.js';
import { EVENTS_CHANNEL, eventsAwaited, runEventsPayload } from './channels.js';
import { STEP_TUPLES, stepStates, type StepTuple } from './run-state.js';

/** An outbox item an engine now holds, with everything its attempt needs and the run state its completion plans from. */
export interface ClaimedItem {
  id: string;
  runId: string;
  stepIndex: number;
  kind: AttemptKind;
  leaseToken: string;
  /** true when this claim moved the run from PENDING to RUNNING (its first attempt): log that transition once */
  started: boolean;
  /** how many times this item has been handed out without completing, this delivery included */
  deliveries: number;
  stepId: string;
  /** attempts already recorded for this item's kind, and how many of them came before the last manual retry */
  attemptsMade: number;
  attemptsBeforeRetry: number;
  run: {
    workflowName: string;
    workflowVersion: string;
    input: Record<string, unknown>;
    context: Record<string, unknown>;
    correlationId: string;
    traceParent: string | null;
    traceState: string | null;
  };
  /** outputs of the steps that have succeeded so far, by step id */
  outputs: Record<string, unknown>;
  /**
   * The run and its steps as this lease found them (the claim's own changes included). Only the holder of the run's
   * live item moves its steps, so the engine plans the completion from this and commits it guarded on the lease, the
   * run status and the cancel flag being unchanged (completeItems); anything else takes the locked path.
   */
  state: RunState;
  /**
   * true when another transaction changed the item between the start of the claim statement and its row lock (the
   * previous holder's completion, committed just then): the state, read as of the statement start, may miss that
   * change, so the completion re-reads the run under lock instead of trusting it.
   */
  stateStale: boolean;
  /**
   * Estimated bytes this item holds in memory: its run's input, context and succeeded outputs (their JSON size) plus
   * a fixed overhead; what the engine counts against ENGINE_MAX_INFLIGHT_BYTES.
   */
  payloadBytes: number;
}

/** What one claim returned, and whether the byte budget left due items behind. */
export interface ClaimResult {
  items: ClaimedItem[];
  /** due items this claim locked but did not take because they would have gone past `maxBytes` */
  leftOut: number;
}

/** Counted for every claimed item on top of its payload: the item, its snapshot and its request. */
export const ITEM_OVERHEAD_BYTES = 2048;

interface ClaimRow {
  id: string;
  run_id: string;
  step_index: number;
  kind: AttemptKind;
  lease_token: string;
  deliveries: number;
  step_id: string;
  attempts_made: number;
  attempts_before_retry: number;
  workflow_name: string;
  workflow_version: string;
  run_status: RunStatus;
  started: boolean;
  input: Record<string, unknown>;
  context: Record<string, unknown>;
  correlation_id: string;
  trace_parent: string | null;
  trace_state: string | null;
  outputs: Record<string, unknown>;
  run_error: RunError | null;
  cancel_requested: boolean;
  event_seq: number;
  created_at: Date;
  steps: StepTuple[];
  snapshot_fresh: boolean;
  payload_bytes: string;
  left_out: string;
}

/** The run state as the claim left it: the claim's SQL leased the item's step (or compensation) as leaseStep says. */
function claimedState(r: ClaimRow): RunState {
  return {
    runId: r.run_id,
    status: r.run_status,
    error: r.run_error,
    workflowName: r.workflow_name,
    correlationId: r.correlation_id,
    createdAt: r.created_at,
    cancelRequested: r.cancel_requested,
    // the claim leases no item of a paused run or workflow
    paused: false,
    workflowPaused: false,
    eventSeq: r.event_seq,
    steps: stepStates(r.steps).map((step) => (step.index === r.step_index ? leaseStep(step, r.kind) : step)),
  };
}

/**
 * Bytes a jsonb value stands for. Values under ~2 KB are stored inline and uncompressed, so their stored size is their
 * size; larger ones may be compressed in TOAST (a 12 MiB run of one letter is stored in a few KiB), so they are
 * measured as text: they are being loaded by this claim anyway.
 */
const jsonBytes = (column: string): string =>
  `case when pg_column_size(${column}) > 2000 then octet_length(${column}::text) else pg_column_size(${column}) end`;

/** A run's first action has no outputs yet (steps run in order): most claims skip the outputs lookup. */
const PAYLOAD_BYTES = sql.raw(
  `${ITEM_OVERHEAD_BYTES} + ${jsonBytes('r.input')} + ${jsonBytes('r.context')} +
   case when c.step_index = 0 and c.kind = 'action' then 0
        else coalesce((select sum(${jsonBytes('x.output')})
                         from run_steps x where x.run_id = r.id and x.status = 'SUCCEEDED'), 0) end`,
);

/**
 * The claim, one statement: lock up to `limit` due items (SKIP LOCKED, in the outbox_claim index order), keep them in
 * that order while the bytes of the ones before stay under `maxBytes` (so the first is always taken, however large),
 * lease those to `owner` by moving their due time to the end of the lease, mark their step (or compensation) and run
 * as started, and return them with their run's data. The locked items not taken are left as they were.
 */
export async function claimOutboxBatchWithin(
  db: Db,
  owner: string,
  limit: number,
  leaseMs: number,
  maxBytes: number,
): Promise<ClaimResult> {
  const rows = await executePrepared(
    db,
    'sagaflow_claim_outbox',
    sql<ClaimRow>`
    with candidates as (
      select id, run_id, step_index, kind, due_at, xmin as locked_xmin from outbox
       where status = 'READY' and due_at <= now()
       order by due_at, id
       limit ${limit}
         for update skip locked
    ), checked as (
      select c.*, r.paused_at is not null
                  or exists (select 1 from workflow_pauses p where p.workflow_name = r.workflow_name for key share) as paused
        from candidates c join workflow_runs r on r.id = c.run_id
    ), held as (
      -- never a new attempt of a paused run or workflow (docs/contract.md#pause): an item due anyway (a lease that
      -- expired while paused, handed back at shutdown, or moved by a completion racing a workflow pause) is held
      update outbox o
         set due_at = 'infinity', held_due_at = o.due_at, lease_owner = null, lease_token = null
        from checked k
       where k.paused and o.id = k.id
      returning o.id
    ), sized as (
      select c.id, c.locked_xmin, b.bytes,
             coalesce(sum(b.bytes) over (order by c.due_at, c.id rows between unbounded preceding and 1 preceding), 0)
               as bytes_before
        from checked c
        cross join lateral (select ${PAYLOAD_BYTES} as bytes from workflow_runs r where r.id = c.run_id) b
       where not c.paused
    ), due as (
      select id, locked_xmin, bytes from sized where bytes_before < ${maxBytes}::bigint
    ), claimed as (
      update outbox o
         set lease_owner = ${owner}, lease_token = gen_random_uuid(),
             due_at = now() + ${leaseMs} * interval '1 millisecond', deliveries = o.deliveries + 1
        from due
       where o.id = due.id
      returning o.id, o.run_id, o.step_index, o.kind, o.lease_token, o.deliveries
    ), started_steps as (
      update run_steps s
         set status = 'RUNNING', started_at = coalesce(s.started_at, now())
        from claimed c
       where c.kind = 'action' and s.run_id = c.run_id and s.step_index = c.step_index and s.status = 'PENDING'
      returning s.run_id
    ), started_compensations as (
      update run_steps s
         set compensation_status = 'RUNNING'
        from claimed c
       where c.kind = 'compensation' and s.run_id = c.run_id and s.step_index = c.step_index and s.compensation_status = 'PENDING'
      returning s.run_id
    ), started_runs as (
      update workflow_runs r
         set status = 'RUNNING', updated_at = now(), event_seq = r.event_seq + 1
        from claimed c
       where r.id = c.run_id and r.status = 'PENDING'
      returning r.id, r.event_seq
    ), started_events as (
      -- the start of the run is history too (docs/contract.md#run-history)
      insert into run_events (run_id, seq, type, data)
      select id, event_seq, 'RUN_STATUS_CHANGED', '{"from": "PENDING", "to": "RUNNING", "error": null}'::jsonb
        from started_runs
      returning run_id
    ), history as (
      select pg_notify(${EVENTS_CHANNEL}, ${runEventsPayload}) from started_events having count(*) > 0 and ${eventsAwaited}
    )
    select c.id, c.run_id, c.step_index, c.kind, c.lease_token, c.deliveries, s.step_id,
           case when c.kind = 'action' then s.attempts else s.compensation_attempts end as attempts_made,
           case when c.kind = 'action' then s.attempts_before_retry else s.compensation_attempts_before_retry end as attempts_before_retry,
           r.workflow_name, r.workflow_version,
           case when sr.id is not null then 'RUNNING' else r.status end as run_status,
           sr.id is not null as started,
           r.input, r.context, r.correlation_id, r.trace_parent, r.trace_state,
           (select coalesce(jsonb_object_agg(x.step_id, x.output), '{}'::jsonb)
              from run_steps x where x.run_id = c.run_id and x.status = 'SUCCEEDED') as outputs,
           r.error as run_error, r.cancel_requested_at is not null as cancel_requested, r.created_at,
           coalesce(sr.event_seq, r.event_seq) as event_seq,
           ${STEP_TUPLES} as steps,
           -- the item as this statement's snapshot saw it is the version the lock took: nothing committed in between
           coalesce((select x.xmin = d.locked_xmin from outbox x where x.id = c.id), false) as snapshot_fresh,
           (select count(*) from started_steps) + (select count(*) from started_compensations)
             + (select count(*) from history) + (select count(*) from held) as _started,
           d.bytes as payload_bytes,
           (select count(*) from sized) - (select count(*) from due) as left_out
      from claimed c
      join workflow_runs r on r.id = c.run_id
      join run_steps s on s.run_id = c.run_id and s.step_index = c.step_index
      join due d on d.id = c.id
      left join started_runs sr on sr.id = c.run_id
  `,
  );
  const items = rows.map((r) => ({
    id: r.id,
    runId: r.run_id,
    stepIndex: r.step_index,
    kind: r.kind,
    leaseToken: r.lease_token,
    started: r.started,
    deliveries: r.deliveries,
    stepId: r.step_id,
    attemptsMade: r.attempts_made,
    attemptsBeforeRetry: r.attempts_before_retry,
    run: {
      workflowName: r.workflow_name,
      workflowVersion: r.workflow_version,
      input: r.input,
      context: r.context,
      correlationId: r.correlation_id,
      traceParent: r.trace_parent,
      traceState: r.trace_state,
    },
    outputs: r.outputs,
    state: claimedState(r),
    stateStale: !r.snapshot_fresh,
    payloadBytes: Number(r.payload_bytes),
  }));
  return { items, leftOut: rows.length > 0 ? Number(rows[0]!.left_out) : 0 };
}

/** The claim without a byte budget (tests, tools): up to `limit` due items. */
export async function claimOutboxBatch(db: Db, owner: string, limit: number, leaseMs: number): Promise<ClaimedItem[]> {
  return (await claimOutboxBatchWithin(db, owner, limit, leaseMs, Number.MAX_SAFE_INTEGER)).items;
}
