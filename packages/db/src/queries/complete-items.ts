import { sql } from 'kysely';
import type { Settlement } from '../group-commit.js';
import { executePrepared, type Db } from '../pool.js';
import { planCompletion, snapshotAfter, type AttemptResult, type Plan, type StepSnapshot } from '../saga-plan.js';
import type { AttemptKind } from '../schema.js';
import { TERMINAL_RUN_STATUSES } from '../state-machine.js';
import type { CarriedLease } from './apply-plan.js';
import { completeItem, type AttemptRecord, type CompletionOutcome, type LeasedItem } from './complete-item.js';
import { OUTBOX_CHANNEL } from './start-run.js';
import type { LockedRun } from './run-snapshot.js';

/** A leased item with the run as its holder last saw it (from the claim, or from the completion that carried it on). */
export interface HeldItem extends LeasedItem {
  snapshot: LockedRun;
  /** the snapshot may predate a change (see ClaimedItem.snapshotStale): complete through the locked path */
  snapshotStale?: boolean;
}

export interface CompletionRequest {
  item: HeldItem;
  attempt: AttemptRecord | undefined;
  result: AttemptResult;
  /** keep the lease on the run's next item when it is due now (see completeItem) */
  carryOver?: { owner: string; leaseMs: number } | undefined;
}

export type CompletionSettlement = Settlement<CompletionOutcome>;

/** One item's share of the batched statement, decided in JS from the held snapshot. */
interface Prepared {
  index: number;
  request: CompletionRequest;
  plan: Plan;
  carry: { stepIndex: number; kind: AttemptKind } | undefined;
}

interface StepRow {
  run_id: string;
  step_index: number;
  status?: string;
  if_status?: string;
  compensation_status?: string;
  if_compensation_status?: string;
  attempts?: number;
  compensation_attempts?: number;
  set_output?: boolean;
  output?: unknown;
  set_error?: boolean;
  error?: unknown;
  set_compensation_error?: boolean;
  compensation_error?: unknown;
  start?: boolean;
  finished?: boolean;
  compensated?: boolean;
}

/**
 * Plans an item from its held snapshot, or says it needs the locked path: parking (a dead item and maybe a new one),
 * budget resets and un-skipping are rare and stay in applyPlan; a snapshot the plan rejects is stale.
 */
function prepare(request: CompletionRequest, index: number): Prepared | undefined {
  const { item, attempt, result, carryOver } = request;
  if (item.snapshotStale) return undefined;
  let plan: Plan;
  try {
    plan = planCompletion(item.snapshot, item, attempt?.attemptNo, result);
  } catch {
    return undefined;
  }
  if (plan.item.type === 'park' || plan.item.type === 'keep' || plan.unskip) return undefined;
  if (plan.steps.some((c) => c.resetAttemptBudget || c.resetCompensationBudget || c.status === 'PENDING'))
    return undefined;
  const carry =
    plan.item.type === 'move' && plan.item.next.dueAt === null && carryOver
      ? { stepIndex: plan.item.next.stepIndex, kind: plan.item.next.kind }
      : undefined;
  return { index, request, plan, carry };
}

function stepRows(p: Prepared): StepRow[] {
  const runId = p.request.item.runId;
  const rows = new Map<number, StepRow>();
  const row = (stepIndex: number): StepRow => {
    let r = rows.get(stepIndex);
    if (!r) rows.set(stepIndex, (r = { run_id: runId, step_index: stepIndex }));
    return r;
  };
  for (const c of p.plan.steps) {
    const r = row(c.index);
    if (c.status !== undefined) r.status = c.status;
    if (c.compensationStatus !== undefined) r.compensation_status = c.compensationStatus;
    if (c.attempts !== undefined) r.attempts = c.attempts;
    if (c.compensationAttempts !== undefined) r.compensation_attempts = c.compensationAttempts;
    if (c.output !== undefined) Object.assign(r, { set_output: true, output: c.output });
    if (c.error !== undefined) Object.assign(r, { set_error: true, error: c.error });
    if (c.compensationError !== undefined)
      Object.assign(r, { set_compensation_error: true, compensation_error: c.compensationError });
    if (c.finished) r.finished = true;
    if (c.compensated) r.compensated = true;
  }
  if (p.plan.skipPending) {
    // the steps still PENDING after this plan's own changes, guarded again in SQL
    const changed = (s: StepSnapshot): string => p.plan.steps.find((c) => c.index === s.index)?.status ?? s.status;
    for (const s of p.request.item.snapshot.steps) {
      if (changed(s) === 'PENDING') Object.assign(row(s.index), { status: 'SKIPPED', if_status: 'PENDING' });
    }
  }
  if (p.carry) {
    const r = row(p.carry.stepIndex);
    if (p.carry.kind === 'action')
      Object.assign(r, { status: r.status ?? 'RUNNING', if_status: r.if_status ?? 'PENDING', start: true });
    else Object.assign(r, { compensation_status: 'RUNNING', if_compensation_status: 'PENDING' });
  }
  return [...rows.values()];
}

interface ResultRow {
  item_id: string;
  lease_token: string | null;
  step_id: string | null;
  attempts_made: number | null;
  attempts_before_retry: number | null;
}

/**
 * The fast path, one statement (so one transaction) for the whole batch: lock each item and its run, but only while the
 * item still carries the caller's lease token (fencing) and the run still has the status and cancel flag its snapshot
 * had; then, for the items that passed, record the attempts, move the steps and runs, and retire, move or carry on the
 * items. Returns the ids that passed, with their carried leases. The others committed nothing.
 */
async function completeFast(db: Db, batch: Prepared[]): Promise<Map<string, ResultRow>> {
  const guards = batch.map((p) => ({
    item_id: p.request.item.id,
    run_id: p.request.item.runId,
    token: p.request.item.leaseToken,
    status: p.request.item.snapshot.status,
    cancelled: p.request.item.snapshot.cancelRequested,
    next_index: p.carry?.stepIndex ?? null,
    next_kind: p.carry?.kind ?? null,
  }));
  const attempts = batch.flatMap((p) => {
    const a = p.request.attempt;
    if (!a) return [];
    const { item } = p.request;
    return [
      {
        run_id: item.runId,
        step_index: item.stepIndex,
        kind: item.kind,
        attempt_no: a.attemptNo,
        outcome: a.outcome,
        http_status: a.httpStatus,
        error: a.error,
        started_at: a.startedAt,
        finished_at: a.finishedAt,
      },
    ];
  });
  const steps = batch.flatMap(stepRows);
  const runs = batch.flatMap((p) => {
    const change = p.plan.run;
    if (!change) return [];
    return [
      {
        run_id: p.request.item.runId,
        status: change.status,
        terminal: TERMINAL_RUN_STATUSES.includes(change.status),
        set_error: change.error !== undefined,
        error: change.error ?? null,
      },
    ];
  });
  const retired = batch.filter((p) => p.plan.item.type === 'delete').map((p) => p.request.item.id);
  const moves = batch.flatMap((p) => {
    if (p.plan.item.type !== 'move') return [];
    const { next } = p.plan.item;
    const carry = p.carry ? p.request.carryOver : undefined;
    return [
      {
        item_id: p.request.item.id,
        step_index: next.stepIndex,
        kind: next.kind,
        due_at: next.dueAt,
        carry: carry !== undefined,
        owner: carry?.owner ?? null,
        lease_ms: carry?.leaseMs ?? null,
      },
    ];
  });

  const rows = await executePrepared(
    db,
    'sagaflow_complete_items',
    sql<ResultRow>`
    with req as materialized (
      select * from jsonb_to_recordset(${JSON.stringify(guards)}::jsonb)
          as t(item_id bigint, run_id uuid, token uuid, status text, cancelled boolean, next_index int, next_kind text)
    ), guard as materialized (
      select req.item_id, req.run_id, req.next_index, req.next_kind
        from req
        join workflow_runs r on r.id = req.run_id and r.status = req.status and (r.cancel_requested_at is not null) = req.cancelled
        join outbox o on o.id = req.item_id and o.run_id = req.run_id and o.lease_token = req.token and o.status = 'READY'
       order by req.run_id
         -- run before item, runs in id order: the order of the locked path and of the heartbeat
         for update of r, o
    ), attempts as (
      insert into step_attempts (run_id, step_index, kind, attempt_no, outcome, http_status, error, started_at, finished_at)
      select a.run_id, a.step_index, a.kind, a.attempt_no, a.outcome, a.http_status, a.error, a.started_at, a.finished_at
        from jsonb_to_recordset(${JSON.stringify(attempts)}::jsonb)
          as a(run_id uuid, step_index int, kind text, attempt_no int, outcome text, http_status int, error jsonb,
               started_at timestamptz, finished_at timestamptz)
        join guard g on g.run_id = a.run_id
    ), steps as (
      update run_steps s
         set status = case when v.status is null or s.status <> coalesce(v.if_status, s.status) then s.status else v.status end,
             compensation_status = case when v.compensation_status is null
                                          or s.compensation_status <> coalesce(v.if_compensation_status, s.compensation_status)
                                        then s.compensation_status else v.compensation_status end,
             attempts = coalesce(v.attempts, s.attempts),
             compensation_attempts = coalesce(v.compensation_attempts, s.compensation_attempts),
             output = case when v.set_output then v.output else s.output end,
             error = case when v.set_error then v.error else s.error end,
             compensation_error = case when v.set_compensation_error then v.compensation_error else s.compensation_error end,
             started_at = case when v.start then coalesce(s.started_at, now()) else s.started_at end,
             finished_at = case when v.finished then now() else s.finished_at end,
             compensated_at = case when v.compensated then now() else s.compensated_at end
        from jsonb_to_recordset(${JSON.stringify(steps)}::jsonb)
          as v(run_id uuid, step_index int, status text, if_status text, compensation_status text, if_compensation_status text,
               attempts int, compensation_attempts int, set_output boolean, output jsonb, set_error boolean, error jsonb,
               set_compensation_error boolean, compensation_error jsonb, start boolean, finished boolean, compensated boolean)
        join guard g on g.run_id = v.run_id
       where s.run_id = v.run_id and s.step_index = v.step_index
      returning s.run_id, s.step_index, s.step_id,
                s.attempts, s.attempts_before_retry, s.compensation_attempts, s.compensation_attempts_before_retry
    ), runs as (
      update workflow_runs r
         set status = v.status, updated_at = now(), completed_at = case when v.terminal then now() end,
             error = case when v.set_error then v.error else r.error end
        from jsonb_to_recordset(${JSON.stringify(runs)}::jsonb) as v(run_id uuid, status text, terminal boolean, set_error boolean, error jsonb)
        join guard g on g.run_id = v.run_id
       where r.id = v.run_id
    ), retired as (
      delete from outbox o using guard g
       where o.id = g.item_id and o.id = any(${retired}::bigint[])
    ), moved as (
      update outbox o
         set step_index = v.step_index, kind = v.kind,
             due_at = case when v.carry then now() + v.lease_ms * interval '1 millisecond' else coalesce(v.due_at, now()) end,
             lease_owner = case when v.carry then v.owner end,
             lease_token = case when v.carry then gen_random_uuid() end,
             deliveries = case when v.carry then 1 else 0 end
        from jsonb_to_recordset(${JSON.stringify(moves)}::jsonb)
          as v(item_id bigint, step_index int, kind text, due_at timestamptz, carry boolean, owner text, lease_ms int)
        join guard g on g.item_id = v.item_id
       where o.id = v.item_id
      returning o.id, o.lease_token, not v.carry and v.due_at is null as wake
    ), wake as (
      -- work due now that nobody carries on (the engine is stopping): wake the engines, at commit
      select pg_notify(${OUTBOX_CHANNEL}, '') from (select 1 from moved where wake limit 1) due_now
    )
    select g.item_id::text as item_id, m.lease_token, st.step_id, (select count(*) from wake) as woken,
           case when g.next_kind = 'action' then st.attempts else st.compensation_attempts end as attempts_made,
           case when g.next_kind = 'action' then st.attempts_before_retry else st.compensation_attempts_before_retry end as attempts_before_retry
      from guard g
      left join moved m on m.id = g.item_id
      left join steps st on st.run_id = g.run_id and st.step_index = g.next_index
  `,
  );
  return new Map(rows.map((r) => [r.item_id, r]));
}

function fastOutcome(p: Prepared, row: ResultRow): CompletionOutcome {
  const before = p.request.item.snapshot;
  let carried: CarriedLease | undefined;
  if (p.carry) {
    if (
      row.lease_token === null ||
      row.step_id === null ||
      row.attempts_made === null ||
      row.attempts_before_retry === null
    ) {
      throw new Error(`carry-over of outbox item ${row.item_id} returned no lease`);
    }
    carried = {
      ...p.carry,
      leaseToken: row.lease_token,
      stepId: row.step_id,
      attemptsMade: row.attempts_made,
      attemptsBeforeRetry: row.attempts_before_retry,
    };
  }
  return { plan: p.plan, before, after: snapshotAfter(before, p.plan, carried), ...(carried ? { carried } : {}) };
}

async function settleLocked(db: Db, request: CompletionRequest): Promise<CompletionSettlement> {
  try {
    const options = request.carryOver ? { carryOver: request.carryOver } : {};
    return { ok: true, value: await completeItem(db, request.item, request.attempt, request.result, options) };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Completes several items (of different runs) at once — group commit. Each item is fenced and guarded on its own:
 * the ones whose snapshot still holds commit together in one statement; the others (lease lost, cancel requested
 * meanwhile, or a plan only the locked path applies) go through completeItem, each in its own transaction, which
 * re-reads the run under lock and commits or reports LeaseLostError. Settlements come back in request order.
 * A database error of the batched statement rejects the whole call (nothing of it committed).
 */
export async function completeItems(db: Db, requests: readonly CompletionRequest[]): Promise<CompletionSettlement[]> {
  const runIds = new Set(requests.map((r) => r.item.runId));
  if (runIds.size !== requests.length) throw new Error('completeItems: one item per run per batch');
  const settlements: Array<CompletionSettlement | undefined> = new Array(requests.length);
  const fast: Prepared[] = [];
  requests.forEach((request, i) => {
    const prepared = prepare(request, i);
    if (prepared) fast.push(prepared);
  });
  const passed = fast.length > 0 ? await completeFast(db, fast) : new Map<string, ResultRow>();
  for (const p of fast) {
    const row = passed.get(p.request.item.id);
    if (row) settlements[p.index] = { ok: true, value: fastOutcome(p, row) };
  }
  for (let i = 0; i < requests.length; i++) {
    if (!settlements[i]) settlements[i] = await settleLocked(db, requests[i]!);
  }
  return settlements as CompletionSettlement[];
}
