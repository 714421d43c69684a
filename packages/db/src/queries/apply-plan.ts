import { sql } from 'kysely';
import type { Plan, StepChange } from '../saga-plan.js';
import { TERMINAL_RUN_STATUSES } from '../state-machine.js';
import { OUTBOX_CHANNEL } from './start-run.js';
import type { Trx } from './run-snapshot.js';

const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

async function applyStepChange(trx: Trx, runId: string, c: StepChange): Promise<void> {
  const set: Record<string, unknown> = {};
  if (c.status !== undefined) set['status'] = c.status;
  if (c.compensationStatus !== undefined) set['compensation_status'] = c.compensationStatus;
  if (c.attempts !== undefined) set['attempts'] = c.attempts;
  if (c.compensationAttempts !== undefined) set['compensation_attempts'] = c.compensationAttempts;
  if (c.output !== undefined) set['output'] = json(c.output);
  if (c.error !== undefined) set['error'] = json(c.error);
  if (c.compensationError !== undefined) set['compensation_error'] = json(c.compensationError);
  if (c.finished) set['finished_at'] = sql`now()`;
  if (c.compensated) set['compensated_at'] = sql`now()`;
  if (c.resetAttemptBudget) set['attempts_before_retry'] = sql`attempts`;
  if (c.resetCompensationBudget) set['compensation_attempts_before_retry'] = sql`compensation_attempts`;
  if (c.status === 'PENDING') set['finished_at'] = null;
  if (Object.keys(set).length === 0) return;
  await trx
    .updateTable('run_steps')
    .set(set as never)
    .where('run_id', '=', runId)
    .where('step_index', '=', c.index)
    .execute();
}

/** The next item, leased on to the same worker inside the completion (no claim needed to continue). */
export interface CarriedLease {
  stepIndex: number;
  kind: 'action' | 'compensation';
  leaseToken: string;
  stepId: string;
  attemptsMade: number;
  attemptsBeforeRetry: number;
}

export interface ApplyOptions {
  notify?: boolean;
  /** keep the lease on work that is due now, for this owner: the engine continues with it directly */
  carry?: { owner: string; leaseMs: number };
}

async function carryLease(
  trx: Trx,
  runId: string,
  itemId: string,
  next: { stepIndex: number; kind: 'action' | 'compensation' },
  carry: NonNullable<ApplyOptions['carry']>,
): Promise<CarriedLease> {
  const { rows } = await sql<{
    lease_token: string;
    step_id: string;
    attempts_made: number;
    attempts_before_retry: number;
  }>`
    with item as (
      update outbox
         set step_index = ${next.stepIndex}, kind = ${next.kind}, status = 'READY', lease_owner = ${carry.owner},
             lease_token = gen_random_uuid(), deliveries = 1, due_at = now() + ${carry.leaseMs} * interval '1 millisecond'
       where id = ${itemId}
      returning lease_token
    ), step as (
      update run_steps
         set status = case when ${next.kind} = 'action' and status = 'PENDING' then 'RUNNING' else status end,
             started_at = case when ${next.kind} = 'action' then coalesce(started_at, now()) else started_at end,
             compensation_status = case when ${next.kind} = 'compensation' and compensation_status = 'PENDING' then 'RUNNING' else compensation_status end
       where run_id = ${runId} and step_index = ${next.stepIndex}
      returning step_id,
                case when ${next.kind} = 'action' then attempts else compensation_attempts end as attempts_made,
                case when ${next.kind} = 'action' then attempts_before_retry else compensation_attempts_before_retry end as attempts_before_retry
    )
    select item.lease_token, step.step_id, step.attempts_made, step.attempts_before_retry from item, step
  `.execute(trx);
  const row = rows[0];
  if (!row) throw new Error(`could not carry the lease of outbox item ${itemId}`);
  return {
    ...next,
    leaseToken: row.lease_token,
    stepId: row.step_id,
    attemptsMade: row.attempts_made,
    attemptsBeforeRetry: row.attempts_before_retry,
  };
}

/**
 * Applies a plan inside the caller's transaction. `itemId` is the run's live (or dead) outbox item being acted on, if any.
 * Reports whether new work became due now, and the lease carried on to it when `options.carry` asked for that.
 */
export async function applyPlan(
  trx: Trx,
  runId: string,
  itemId: string | undefined,
  plan: Plan,
  options: ApplyOptions = {},
): Promise<{ dueNow: boolean; carried?: CarriedLease }> {
  for (const change of plan.steps) await applyStepChange(trx, runId, change);
  if (plan.skipPending) {
    await trx
      .updateTable('run_steps')
      .set({ status: 'SKIPPED' })
      .where('run_id', '=', runId)
      .where('status', '=', 'PENDING')
      .execute();
  }
  if (plan.unskip) {
    await trx
      .updateTable('run_steps')
      .set({ status: 'PENDING' })
      .where('run_id', '=', runId)
      .where('status', '=', 'SKIPPED')
      .execute();
  }
  if (plan.run) {
    const terminal = TERMINAL_RUN_STATUSES.includes(plan.run.status);
    await trx
      .updateTable('workflow_runs')
      .set({
        status: plan.run.status,
        updated_at: sql`now()`,
        completed_at: terminal ? sql`now()` : null,
        ...(plan.run.error !== undefined ? { error: json(plan.run.error) } : {}),
      })
      .where('id', '=', runId)
      .execute();
  }

  const item = plan.item;
  let dueNow = false;
  if (item.type === 'delete' && itemId) {
    await trx.deleteFrom('outbox').where('id', '=', itemId).execute();
  } else if (item.type === 'move' && item.next.dueAt === null && itemId && options.carry) {
    return { dueNow: true, carried: await carryLease(trx, runId, itemId, item.next, options.carry) };
  } else if (item.type === 'move') {
    dueNow = item.next.dueAt === null;
    const values = {
      step_index: item.next.stepIndex,
      kind: item.next.kind,
      due_at: item.next.dueAt ?? sql<Date>`now()`,
      lease_owner: null,
      lease_token: null,
      deliveries: 0,
      status: 'READY' as const,
    };
    if (itemId) await trx.updateTable('outbox').set(values).where('id', '=', itemId).execute();
    else
      await trx
        .insertInto('outbox')
        .values({ run_id: runId, ...values })
        .execute();
  } else if (item.type === 'park') {
    if (itemId) {
      await trx
        .updateTable('outbox')
        .set({ status: 'DEAD', lease_owner: null, lease_token: null, last_error: json(item.lastError) })
        .where('id', '=', itemId)
        .execute();
    }
    if (item.next) {
      dueNow = item.next.dueAt === null;
      await trx
        .insertInto('outbox')
        .values({
          run_id: runId,
          step_index: item.next.stepIndex,
          kind: item.next.kind,
          due_at: item.next.dueAt ?? sql`now()`,
        })
        .execute();
    }
  }
  if (dueNow && options.notify) await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(trx);
  return { dueNow };
}
