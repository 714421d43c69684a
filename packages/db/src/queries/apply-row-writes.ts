import type { RowWrites } from '@sagaflow/saga';
import { sql } from 'kysely';
import { executePrepared, type Db } from '../pool.js';
import { EVENTS_CHANNEL, eventsAwaited, runEventsPayload, OUTBOX_CHANNEL } from './channels.js';

const rows = (value: unknown[]): string => JSON.stringify(value);

/**
 * The one writer's statement: applies a batch of RowWrites (of different runs) in one statement, so one transaction
 * (or inside the caller's). Each run's writes are guarded on their own: its run row still has the status and cancel
 * flag they were planned from, and, when they act on a leased item, that item still carries the lease (fencing). The
 * runs that pass are locked (run before item, runs in id order: the order of the heartbeat), and all their rows are
 * written: attempts recorded, steps and runs set, history appended (seq contiguous: the guard also checks the run's
 * last seq), outbox items updated, deleted or inserted, the engines woken at commit when unleased work became due now,
 * and the runs with new history announced on EVENTS_CHANNEL. Returns the ids of the runs whose writes were applied; the others wrote nothing.
 */
export async function applyRowWrites(db: Db, batch: readonly RowWrites[]): Promise<Set<string>> {
  if (batch.length === 0) return new Set();
  const guards = batch.map((w) => ({
    run_id: w.guard.runId,
    status: w.guard.status,
    cancelled: w.guard.cancelRequested,
    paused: w.guard.paused,
    workflow_paused: w.guard.workflowPaused,
    event_seq: w.guard.eventSeq,
    item_id: w.guard.itemId,
    token: w.guard.leaseToken,
    signal_id: w.guard.unconsumedSignal,
    wake: w.wake,
  }));
  const signalInserts = batch.flatMap((w) =>
    w.signals.flatMap((s) =>
      s.op === 'insert'
        ? [
            {
              id: s.id,
              run_id: s.runId,
              name: s.name,
              payload: s.payload ?? null,
              idempotency_key: s.idempotencyKey,
              request_hash: s.requestHash,
            },
          ]
        : [],
    ),
  );
  const signalConsumes = batch.flatMap((w) =>
    w.signals.flatMap((s) => (s.op === 'consume' ? [{ id: s.id, run_id: s.runId, step_id: s.stepId }] : [])),
  );
  const attempts = batch.flatMap((w) =>
    w.attempts.map((a) => ({
      run_id: a.runId,
      step_index: a.stepIndex,
      kind: a.kind,
      attempt_no: a.attemptNo,
      outcome: a.outcome,
      http_status: a.httpStatus,
      error: a.error,
      started_at: a.startedAt,
      finished_at: a.finishedAt,
    })),
  );
  const steps = batch.flatMap((w) =>
    w.steps.map((s) => ({
      run_id: s.runId,
      step_index: s.stepIndex,
      status: s.status,
      compensation_status: s.compensationStatus,
      attempts: s.attempts,
      attempts_before_retry: s.attemptsBeforeRetry,
      compensation_attempts: s.compensationAttempts,
      compensation_attempts_before_retry: s.compensationAttemptsBeforeRetry,
      error: s.error,
      set_output: s.setOutput,
      output: s.output ?? null,
      set_compensation_error: s.setCompensationError,
      compensation_error: s.compensationError,
      wait_for: s.wait?.for ?? null,
      wait_until: s.wait?.until ?? null,
      wait_signal: s.wait?.signal ?? null,
      started: s.started,
      finished_at: s.finishedAt,
      compensated: s.compensated,
    })),
  );
  const runs = batch.flatMap((w) =>
    w.run
      ? [
          {
            run_id: w.run.runId,
            status: w.run.status,
            error: w.run.error,
            changed: w.run.changed,
            terminal: w.run.terminal,
            cancel: w.run.cancel,
            paused_at: w.run.pausedAt,
            event_seq: w.run.eventSeq,
          },
        ]
      : [],
  );
  const events = batch.flatMap((w) =>
    w.events.map((e) => ({
      run_id: e.runId,
      seq: e.seq,
      type: e.type,
      step_id: e.stepId,
      kind: e.kind,
      attempt: e.attempt,
      data: e.data,
    })),
  );
  const updates: object[] = [];
  const inserts: object[] = [];
  const deleted: string[] = [];
  const parked: string[] = [];
  const holds: string[] = [];
  const releases: string[] = [];
  for (const w of batch) {
    for (const o of w.outbox) {
      if (o.op === 'delete') deleted.push(o.id);
      else if (o.op === 'deleteParked') parked.push(o.runId);
      else if (o.op === 'hold') holds.push(o.runId);
      else if (o.op === 'release') releases.push(o.runId);
      else if (o.op === 'insert')
        inserts.push({ run_id: o.runId, step_index: o.stepIndex, kind: o.kind, due_at: o.dueAt, held: o.held });
      else
        updates.push({
          run_id: w.guard.runId,
          id: o.id,
          step_index: o.stepIndex,
          kind: o.kind,
          status: o.status,
          due_at: o.dueAt,
          keep_due: o.keepDue,
          lease_owner: o.lease?.owner ?? null,
          lease_token: o.lease?.token ?? null,
          lease_ms: o.lease?.ms ?? null,
          wake_signal: o.wakeOnSignal,
          deliveries: o.deliveries,
          set_last_error: o.setLastError,
          last_error: o.lastError,
          held: o.held,
        });
    }
  }

  const leasedItemIds = batch.flatMap((w) => (w.guard.leaseToken && w.guard.itemId ? [w.guard.itemId] : []));
  const result = await executePrepared(
    db,
    'sagaflow_row_writes',
    sql<{ run_id: string }>`
    with req as materialized (
      select * from jsonb_to_recordset(${rows(guards)}::jsonb)
          as t(run_id uuid, status text, cancelled boolean, paused boolean, workflow_paused boolean, event_seq int,
               item_id bigint, token uuid, signal_id uuid, wake boolean)
    ), leased as materialized (
      select req.run_id, req.wake
        from req
        join workflow_runs r on r.id = req.run_id and r.status = req.status and (r.cancel_requested_at is not null) = req.cancelled
                          and r.event_seq = req.event_seq and (r.paused_at is not null) = req.paused
                          and exists (select 1 from workflow_pauses p where p.workflow_name = r.workflow_name for key share) = req.workflow_paused
                          -- a signal is consumed at most once
                          and (req.signal_id is null or exists (select 1 from run_signals z where z.id = req.signal_id
                                and z.run_id = req.run_id and z.consumed_at is null))
        -- the status test inside coalesce: written plainly, it lets the planner read the whole live-item index
        -- (outbox_one_live_item_per_run, whose predicate it matches) and filter it by id, which a plan made while the
        -- outbox was small keeps doing once it holds thousands of items (docs/performance.md#the-writers-item-lookup)
        join outbox o on o.id = req.item_id and o.run_id = req.run_id and o.lease_token = req.token
                     and coalesce(o.status = 'READY', false)
       where req.token is not null
         -- the same items again, as an array: the planner looks them up by primary key instead of reading the whole
         -- outbox into a hash join (it takes req for 100 rows, jsonb_to_recordset's estimate)
         and o.id = any(${leasedItemIds}::bigint[])
       order by req.run_id
         for update of r, o
    ), unleased as materialized (
      select req.run_id, req.wake
        from req
        join workflow_runs r on r.id = req.run_id and r.status = req.status and (r.cancel_requested_at is not null) = req.cancelled
                          and r.event_seq = req.event_seq and (r.paused_at is not null) = req.paused
                          and exists (select 1 from workflow_pauses p where p.workflow_name = r.workflow_name for key share) = req.workflow_paused
       where req.token is null
       order by req.run_id
         for update of r
    ), guard as (
      select * from leased union all select * from unleased
    ), attempts as (
      insert into step_attempts (run_id, step_index, kind, attempt_no, outcome, http_status, error, started_at, finished_at)
      select a.run_id, a.step_index, a.kind, a.attempt_no, a.outcome, a.http_status, a.error, a.started_at, a.finished_at
        from jsonb_to_recordset(${rows(attempts)}::jsonb)
          as a(run_id uuid, step_index int, kind text, attempt_no int, outcome text, http_status int, error jsonb,
               started_at timestamptz, finished_at timestamptz)
        join guard g on g.run_id = a.run_id
    ), steps as (
      update run_steps s
         set status = v.status, compensation_status = v.compensation_status,
             attempts = v.attempts, attempts_before_retry = v.attempts_before_retry,
             compensation_attempts = v.compensation_attempts,
             compensation_attempts_before_retry = v.compensation_attempts_before_retry,
             error = v.error,
             wait_for = v.wait_for, wait_until = v.wait_until, wait_signal = v.wait_signal,
             output = case when v.set_output then v.output else s.output end,
             compensation_error = case when v.set_compensation_error then v.compensation_error else s.compensation_error end,
             started_at = case when v.started then coalesce(s.started_at, now()) else s.started_at end,
             finished_at = case v.finished_at when 'now' then now() when 'clear' then null else s.finished_at end,
             compensated_at = case when v.compensated then now() else s.compensated_at end
        from jsonb_to_recordset(${rows(steps)}::jsonb)
          as v(run_id uuid, step_index int, status text, compensation_status text, attempts int, attempts_before_retry int,
               compensation_attempts int, compensation_attempts_before_retry int, error jsonb, set_output boolean,
               output jsonb, set_compensation_error boolean, compensation_error jsonb, wait_for text,
               wait_until timestamptz, wait_signal text, started boolean, finished_at text, compensated boolean)
        join guard g on g.run_id = v.run_id
       where s.run_id = v.run_id and s.step_index = v.step_index
    ), runs as (
      update workflow_runs r
         set status = v.status, error = v.error, event_seq = v.event_seq,
             updated_at = case when v.changed then now() else r.updated_at end,
             completed_at = case when not v.changed then r.completed_at when v.terminal then now() end,
             cancel_requested_at = case when v.cancel then now() else r.cancel_requested_at end,
             paused_at = case v.paused_at when 'now' then now() when 'clear' then null else r.paused_at end
        from jsonb_to_recordset(${rows(runs)}::jsonb)
          as v(run_id uuid, status text, error jsonb, changed boolean, terminal boolean, cancel boolean, paused_at text,
               event_seq int)
        join guard g on g.run_id = v.run_id
       where r.id = v.run_id
    ), events as (
      insert into run_events (run_id, seq, type, step_id, kind, attempt, data)
      select e.run_id, e.seq, e.type, e.step_id, e.kind, e.attempt, e.data
        from jsonb_to_recordset(${rows(events)}::jsonb)
          as e(run_id uuid, seq int, type text, step_id text, kind text, attempt int, data jsonb)
        join guard g on g.run_id = e.run_id
      returning run_id
    ), deleted as (
      -- two deletes, not one with an OR: the OR kept the primary key out of the plan, and once Postgres kept a generic
      -- plan for this statement it read the whole outbox at each completion (docs/performance.md#waiting-runs-and-the-plan);
      -- the cardinality test is a one-time filter: a completion that deletes nothing (most) does not touch the outbox
      delete from outbox o using guard g
       where cardinality(${deleted}::bigint[]) > 0
         and o.run_id = g.run_id and o.id = any(${deleted}::bigint[])
      returning o.id
    ), parked_deleted as (
      -- an operator's retry resolves the run's parked (DEAD) item, found through outbox_dead (migration 010); the
      -- cardinality test is a one-time filter: the plan does not touch the outbox when no item is parked
      delete from outbox o using guard g
       where cardinality(${parked}::uuid[]) > 0
         and o.run_id = g.run_id and o.status = 'DEAD' and o.run_id = any(${parked}::uuid[])
      returning o.id
    ), updated as (
      update outbox o
         set step_index = v.step_index, kind = v.kind, status = v.status,
             due_at = case when v.lease_ms is not null then now() + v.lease_ms * interval '1 millisecond'
                           when v.keep_due then o.due_at
                           -- a paused run's item waits for resume, its due time kept in held_due_at
                           when v.held then 'infinity'
                           -- a wait that began while its signal arrived: due now (the signal's writes saw no wait yet)
                           when v.wake_signal is not null and exists (
                             select 1 from run_signals z
                              where z.run_id = v.run_id and z.name = v.wake_signal and z.consumed_at is null) then now()
                           else coalesce(v.due_at, now()) end,
             -- held: the signal (above) makes it due now at resume, not before (SPEC §15)
             held_due_at = case when not v.held then null
                                when v.wake_signal is not null and exists (
                                  select 1 from run_signals z
                                   where z.run_id = v.run_id and z.name = v.wake_signal and z.consumed_at is null) then now()
                                else coalesce(v.due_at, now()) end,
             lease_owner = v.lease_owner, lease_token = v.lease_token,
             deliveries = coalesce(v.deliveries, o.deliveries),
             last_error = case when v.set_last_error then v.last_error else o.last_error end
        from jsonb_to_recordset(${rows(updates)}::jsonb)
          as v(run_id uuid, id bigint, step_index int, kind text, status text, due_at timestamptz, keep_due boolean,
               lease_owner text, lease_token uuid, lease_ms int, wake_signal text, deliveries int, set_last_error boolean,
               last_error jsonb, held boolean)
        join guard g on g.run_id = v.run_id
       where o.id = v.id and o.run_id = v.run_id
      returning o.id, v.wake_signal is not null and o.due_at <= now() as signalled
    ), inserted as (
      -- after the updates and deletes (the subqueries run first): a parked item leaves the run's one live slot
      -- (outbox_one_live_item_per_run) before its successor takes it
      insert into outbox (run_id, step_index, kind, due_at, held_due_at)
      select v.run_id, v.step_index, v.kind, case when v.held then 'infinity' else coalesce(v.due_at, now()) end,
             case when v.held then coalesce(v.due_at, now()) end
        from jsonb_to_recordset(${rows(inserts)}::jsonb)
          as v(run_id uuid, step_index int, kind text, due_at timestamptz, held boolean)
        join guard g on g.run_id = v.run_id
       where (select count(*) from updated) + (select count(*) from deleted) + (select count(*) from parked_deleted) >= 0
    ), signals_in as (
      insert into run_signals (id, run_id, name, payload, idempotency_key, request_hash)
      select v.id, v.run_id, v.name, v.payload, v.idempotency_key, v.request_hash
        from jsonb_to_recordset(${rows(signalInserts)}::jsonb)
          as v(id uuid, run_id uuid, name text, payload jsonb, idempotency_key text, request_hash text)
        join guard g on g.run_id = v.run_id
      returning id
    ), signals_out as (
      update run_signals z
         set consumed_at = now(), consumed_by = v.step_id
        from jsonb_to_recordset(${rows(signalConsumes)}::jsonb) as v(id uuid, run_id uuid, step_id text)
        join guard g on g.run_id = v.run_id
       where z.id = v.id and z.run_id = v.run_id and z.consumed_at is null
      returning z.id
    ), held as (
      -- pause: the live item no engine holds waits, keeping its due time (an item in flight finishes first)
      -- (the cardinality tests, here and in released, are one-time filters: without them a plan made while the
      -- outbox was small read every live item at each completion, pause or none; docs/performance.md#the-writers-item-lookup)
      update outbox o
         set due_at = 'infinity', held_due_at = o.due_at
        from guard g
       where cardinality(${holds}::uuid[]) > 0
         and g.run_id = any(${holds}::uuid[]) and o.run_id = any(${holds}::uuid[]) and o.run_id = g.run_id
         and o.status = 'READY'
         and o.lease_token is null and o.held_due_at is null
      returning o.id
    ), released as (
      -- resume: what became due while paused is due now, a later due time is kept
      update outbox o
         set due_at = greatest(o.held_due_at, now()), held_due_at = null
        from guard g
       where cardinality(${releases}::uuid[]) > 0
         and g.run_id = any(${releases}::uuid[]) and o.run_id = any(${releases}::uuid[]) and o.run_id = g.run_id
         and o.status = 'READY'
         and o.held_due_at is not null
      returning o.id
    ), wake as (
      select pg_notify(${OUTBOX_CHANNEL}, '')
        from (select 1 from guard where wake union all select 1 from updated where signalled limit 1) due_now
    ), history as (
      -- the runs with new history, for the API's long polls and streams (delivered at commit)
      select pg_notify(${EVENTS_CHANNEL}, ${runEventsPayload}) from events having count(*) > 0 and ${eventsAwaited}
    )
    select g.run_id::text as run_id,
           (select count(*) from wake) + (select count(*) from history) + (select count(*) from signals_in)
             + (select count(*) from signals_out) + (select count(*) from held) + (select count(*) from released) as woken
      from guard g
  `,
  );
  return new Set(result.map((r) => r.run_id));
}
