import { sql } from 'kysely';
import { NotFoundError } from '../errors.js';
import type { Db } from '../pool.js';
import { OUTBOX_CHANNEL } from './channels.js';
import type { Trx } from './run-state.js';

/**
 * Workflow pause (docs/contract.md#pause): while a workflow_pauses row names a workflow, its starts are accepted
 * (PENDING) but nothing of any of its runs is dispatched — every live item no engine holds is held (due_at
 * 'infinity', its due time in held_due_at), new starts are inserted held, the writer holds what a completion moves on,
 * and the claim holds any item of the workflow it meets. Whoever reads the pause row to decide whether to hold
 * (the writer's guard, the start, the claim) takes FOR KEY SHARE on it, so a resume's delete waits for them and its
 * release then sees what they held.
 */

export interface WorkflowPauseResult {
  name: string;
  paused: boolean;
  /** false when the workflow already was in the asked state (a no-op) */
  changed: boolean;
  /** live items held (pause) or released (resume) by this call */
  items: number;
}

async function assertRegistered(trx: Trx, name: string): Promise<void> {
  const known = await trx
    .selectFrom('workflow_definitions')
    .select('name')
    .where('name', '=', name)
    .limit(1)
    .executeTakeFirst();
  if (!known) throw new NotFoundError(`workflow ${name} is not registered`);
}

/** Pauses a registered workflow (NotFoundError otherwise); pausing a paused one changes nothing. */
export async function pauseWorkflow(
  db: Db,
  name: string,
  options: { reason?: string | null } = {},
): Promise<WorkflowPauseResult> {
  return db.transaction().execute(async (trx) => {
    await assertRegistered(trx, name);
    const inserted = await trx
      .insertInto('workflow_pauses')
      .values({ workflow_name: name, reason: options.reason ?? null })
      .onConflict((oc) => oc.column('workflow_name').doNothing())
      .returning('workflow_name')
      .executeTakeFirst();
    if (!inserted) return { name, paused: true, changed: false, items: 0 };
    // an item in flight (leased) finishes first; its completion's writer sees the pause and holds what follows
    const { rows } = await sql<{ id: string }>`
      update outbox o
         set due_at = 'infinity', held_due_at = o.due_at
        from workflow_runs r
       where r.id = o.run_id and r.workflow_name = ${name}
         and o.status = 'READY' and o.lease_token is null and o.held_due_at is null
      returning o.id
    `.execute(trx);
    return { name, paused: true, changed: true, items: rows.length };
  });
}

/**
 * Resumes a workflow: deletes its pause row, then releases the held items of its runs that are not paused on their
 * own (due at once, or at their kept due time when later) and wakes the engines.
 */
export async function resumeWorkflow(db: Db, name: string): Promise<WorkflowPauseResult> {
  return db.transaction().execute(async (trx) => {
    await assertRegistered(trx, name);
    const deleted = await trx
      .deleteFrom('workflow_pauses')
      .where('workflow_name', '=', name)
      .returning('workflow_name')
      .executeTakeFirst();
    if (!deleted) return { name, paused: false, changed: false, items: 0 };
    const { rows } = await sql<{ id: string }>`
      update outbox o
         set due_at = greatest(o.held_due_at, now()), held_due_at = null
        from workflow_runs r
       where o.held_due_at is not null and r.id = o.run_id and r.workflow_name = ${name} and r.paused_at is null
      returning o.id
    `.execute(trx);
    if (rows.length > 0) await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(trx);
    return { name, paused: false, changed: true, items: rows.length };
  });
}

/** Whether a workflow is paused (for `GET /v1/workflows`). */
export async function isWorkflowPaused(db: Db, name: string): Promise<boolean> {
  const row = await db
    .selectFrom('workflow_pauses')
    .select('workflow_name')
    .where('workflow_name', '=', name)
    .executeTakeFirst();
  return row !== undefined;
}

/** The names of the paused workflows (a small table: one row per paused workflow). */
export async function listPausedWorkflows(db: Db): Promise<Set<string>> {
  const rows = await db.selectFrom('workflow_pauses').select('workflow_name').execute();
  return new Set(rows.map((r) => r.workflow_name));
}
