import { describeCronProblem, nextFireTime, planFire, type CronSpec } from '@sagaflow/definitions';
import { sql, type Transaction } from 'kysely';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import type { Db } from '../pool.js';
import type { Database, ScheduleOverlap, ScheduleRow } from '../schema.js';
import { SCHEDULES_CHANNEL } from './channels.js';
import { DefinitionCatalog } from './definition-catalog.js';
import { getDefinition } from './definitions.js';
import { startRun } from './start-run.js';

/**
 * Schedules (docs/contract.md#schedules): a cron expression that starts runs of a workflow. The API writes them; the
 * engines fire them (fireDueSchedule), each fire time in one transaction with the run it starts.
 */

export interface ScheduleSpec {
  workflowName: string;
  /** undefined: the highest registered version at each fire */
  version?: string;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  context: Record<string, unknown>;
  overlap: ScheduleOverlap;
  paused: boolean;
}

export interface ScheduleView {
  id: string;
  workflowName: string;
  version: string | null;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  context: Record<string, unknown>;
  overlap: ScheduleOverlap;
  paused: boolean;
  nextFireAt: string | null;
  lastFireAt: string | null;
  lastRunId: string | null;
  skippedCount: number;
  missedCount: number;
  createdAt: string;
  updatedAt: string;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function toView(row: ScheduleRow): ScheduleView {
  return {
    id: row.id,
    workflowName: row.workflow_name,
    version: row.workflow_version,
    cron: row.cron,
    timezone: row.timezone,
    input: row.input,
    context: row.context,
    overlap: row.overlap,
    paused: row.paused,
    nextFireAt: iso(row.next_fire_at),
    lastFireAt: iso(row.last_fire_at),
    lastRunId: row.last_run_id,
    skippedCount: Number(row.skipped_count),
    missedCount: Number(row.missed_count),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

type Tx = Transaction<Database>;

/** The database's clock: every fire-time decision uses it, so engines and APIs with skewed clocks agree. */
async function databaseNow(trx: Tx | Db): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`select now() as now`.execute(trx);
  return rows[0]!.now;
}

async function lockSchedule(trx: Tx, id: string): Promise<ScheduleRow | undefined> {
  return trx.selectFrom('schedules').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

async function notifySchedules(trx: Tx, id: string): Promise<void> {
  await sql`select pg_notify(${SCHEDULES_CHANNEL}, ${id})`.execute(trx);
}

/** The first fire time after `now`; a cron without one is refused (it can never start a run). */
function firstFireAfter(spec: CronSpec, now: Date): Date {
  const next = nextFireTime(spec, now);
  if (!next) throw new InvalidInputError(`cron ${JSON.stringify(spec.cron)} never fires after ${now.toISOString()}`);
  return next;
}

/**
 * Creates or replaces a schedule. The next fire time is kept when the cron and time zone did not change (a fire time
 * already due still fires), otherwise it is the first one after now; null while paused. Unknown workflow or version,
 * invalid cron or time zone: InvalidInputError naming it.
 */
export async function putSchedule(
  db: Db,
  id: string,
  spec: ScheduleSpec,
): Promise<{ schedule: ScheduleView; created: boolean }> {
  const problem = describeCronProblem(spec);
  if (problem) throw new InvalidInputError(problem.message);
  const definition = await getDefinition(db, spec.workflowName, spec.version);
  if (!definition) {
    const which = spec.version ? `${spec.workflowName}@${spec.version}` : spec.workflowName;
    throw new InvalidInputError(`workflow ${which} is not registered`);
  }
  return db.transaction().execute(async (trx) => {
    const now = await databaseNow(trx);
    const existing = await lockSchedule(trx, id);
    const sameTimes =
      existing !== undefined &&
      !existing.paused &&
      existing.next_fire_at !== null &&
      existing.cron === spec.cron &&
      existing.timezone === spec.timezone;
    const nextFireAt = spec.paused ? null : sameTimes ? existing.next_fire_at : firstFireAfter(spec, now);
    const values = {
      workflow_name: spec.workflowName,
      workflow_version: spec.version ?? null,
      cron: spec.cron,
      timezone: spec.timezone,
      input: JSON.stringify(spec.input),
      context: JSON.stringify(spec.context),
      overlap: spec.overlap,
      paused: spec.paused,
      next_fire_at: nextFireAt,
    };
    const row = await trx
      .insertInto('schedules')
      .values({ id, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet({ ...values, updated_at: sql<Date>`now()` }))
      .returningAll()
      .executeTakeFirstOrThrow();
    await notifySchedules(trx, id);
    return { schedule: toView(row), created: existing === undefined };
  });
}

export async function getSchedule(db: Db, id: string): Promise<ScheduleView | undefined> {
  const row = await db.selectFrom('schedules').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toView(row) : undefined;
}

/** Every schedule, by id. */
export async function listSchedules(db: Db): Promise<ScheduleView[]> {
  const rows = await db.selectFrom('schedules').selectAll().orderBy('id').execute();
  return rows.map(toView);
}

/** Pauses a schedule: no fire time is due until it is resumed (a no-op when already paused). */
export async function pauseSchedule(db: Db, id: string): Promise<ScheduleView> {
  const row = await db
    .updateTable('schedules')
    .set({ paused: true, next_fire_at: null, updated_at: sql<Date>`case when paused then updated_at else now() end` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`schedule ${id} not found`);
  return toView(row);
}

/**
 * Resumes a paused schedule from now on: the fire times that passed while it was paused are not fired (as a paused
 * Temporal schedule takes no action). A no-op when not paused.
 */
export async function resumeSchedule(db: Db, id: string): Promise<ScheduleView> {
  return db.transaction().execute(async (trx) => {
    const existing = await lockSchedule(trx, id);
    if (!existing) throw new NotFoundError(`schedule ${id} not found`);
    if (!existing.paused) return toView(existing);
    const next = firstFireAfter(existing, await databaseNow(trx));
    const row = await trx
      .updateTable('schedules')
      .set({ paused: false, next_fire_at: next, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await notifySchedules(trx, id);
    return toView(row);
  });
}

/** Deletes a schedule; a fire in progress on another connection finishes first (the row lock), none follows. */
export async function deleteSchedule(db: Db, id: string): Promise<void> {
  const row = await db.deleteFrom('schedules').where('id', '=', id).returning('id').executeTakeFirst();
  if (!row) throw new NotFoundError(`schedule ${id} not found`);
}

export interface ScheduleTrigger {
  scheduleId: string;
  workflowName: string;
  runId: string;
  firedAt: string;
  idempotencyKey: string;
}

/** The idempotency key (and correlation id) of the run a schedule starts for a fire time. */
export function scheduleFireKey(scheduleId: string, fireAt: Date): string {
  return `schedule:${scheduleId}:${fireAt.toISOString()}`;
}

/**
 * One run now, outside the cron times and whatever the overlap policy (paused or not): idempotency key
 * `schedule:<id>:trigger:<now ISO>`; lastFireAt and lastRunId move to it, in the same transaction.
 */
export async function triggerSchedule(db: Db, id: string): Promise<ScheduleTrigger> {
  return db.transaction().execute(async (trx) => {
    const schedule = await lockSchedule(trx, id);
    if (!schedule) throw new NotFoundError(`schedule ${id} not found`);
    const now = await databaseNow(trx);
    const key = `schedule:${id}:trigger:${now.toISOString()}`;
    const run = await startScheduledRun(trx, new DefinitionCatalog(db), schedule, key);
    await trx
      .updateTable('schedules')
      .set({ last_fire_at: now, last_run_id: run.runId })
      .where('id', '=', id)
      .execute();
    return {
      scheduleId: id,
      workflowName: schedule.workflow_name,
      runId: run.runId,
      firedAt: now.toISOString(),
      idempotencyKey: key,
    };
  });
}

function startScheduledRun(trx: Tx, catalog: DefinitionCatalog, schedule: ScheduleRow, key: string) {
  return startRun(
    trx,
    {
      workflowName: schedule.workflow_name,
      ...(schedule.workflow_version !== null ? { version: schedule.workflow_version } : {}),
      input: schedule.input,
      context: schedule.context,
      correlationId: key,
      idempotencyKey: key,
    },
    catalog,
  );
}

export type ScheduleFireOutcome = 'fired' | 'skipped' | 'failed';

export interface ScheduleFire {
  scheduleId: string;
  fireAt: Date;
  outcome: ScheduleFireOutcome;
  /** older fire times skipped because no engine ran when they were due */
  missed: number;
  runId: string | null;
  /** why the run could not be started (outcome failed) */
  error: string | null;
  nextFireAt: Date | null;
}

interface DueRow extends ScheduleRow {
  db_now: Date;
  previous_running: boolean;
}

/**
 * Fires the earliest due schedule no other engine is firing, in one transaction: locks it (FOR UPDATE SKIP LOCKED),
 * starts its run (idempotency key `schedule:<id>:<fire time ISO>`, correlation id the same) or skips it (overlap
 * `skip` while its last run is not terminal), and advances next_fire_at. A crash before the commit leaves neither the
 * run nor the advance, so the fire time is fired again by whichever engine comes next: exactly one run per fire time.
 * A fire time older than `catchUpMs` means the engines were down: the most recent fire time fires, the older ones are
 * missed (planFire). A run that cannot start (its workflow version is gone, its key was used for another request)
 * is reported `failed` and the schedule moves on. Undefined when nothing is due.
 */
export async function fireDueSchedule(
  db: Db,
  catalog: DefinitionCatalog,
  catchUpMs: number,
): Promise<ScheduleFire | undefined> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<DueRow>`
      select s.*, now() as db_now, (r.id is not null and r.completed_at is null) as previous_running
        from schedules s
        left join workflow_runs r on r.id = s.last_run_id
       where s.next_fire_at <= now() and not s.paused
       order by s.next_fire_at
       limit 1
         for update of s skip locked
    `.execute(trx);
    const schedule = rows[0];
    if (!schedule) return undefined;
    const plan = planFire(schedule, schedule.next_fire_at!, schedule.db_now, catchUpMs);
    const fire: ScheduleFire = {
      scheduleId: schedule.id,
      fireAt: plan.fireAt,
      outcome: 'fired',
      missed: plan.missed,
      runId: null,
      error: null,
      nextFireAt: plan.next,
    };
    if (schedule.overlap === 'skip' && schedule.previous_running) {
      fire.outcome = 'skipped';
    } else {
      try {
        const run = await startScheduledRun(trx, catalog, schedule, scheduleFireKey(schedule.id, plan.fireAt));
        fire.runId = run.runId;
      } catch (error) {
        if (!(error instanceof NotFoundError || error instanceof ConflictError)) throw error;
        fire.outcome = 'failed';
        fire.error = error.message;
      }
    }
    await trx
      .updateTable('schedules')
      .set((eb) => ({
        next_fire_at: plan.next,
        missed_count: eb('missed_count', '+', String(plan.missed)),
        skipped_count: eb('skipped_count', '+', fire.outcome === 'skipped' ? '1' : '0'),
        ...(fire.runId ? { last_fire_at: plan.fireAt, last_run_id: fire.runId } : {}),
      }))
      .where('id', '=', schedule.id)
      .execute();
    return fire;
  });
}

/** The earliest fire time of any schedule (null: none) and the database's clock, to arm a timer for it. */
export async function nextScheduleDue(db: Db): Promise<{ nextFireAt: Date | null; now: Date }> {
  const { rows } = await sql<{ next: Date | null; now: Date }>`
    select (select min(next_fire_at) from schedules) as next, clock_timestamp() as now
  `.execute(db);
  return { nextFireAt: rows[0]!.next, now: rows[0]!.now };
}
