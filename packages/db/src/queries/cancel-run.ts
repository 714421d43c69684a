import { planCancel, rowWrites } from '@sagaflow/saga';
import { sql } from 'kysely';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Db } from '../pool.js';
import type { AttemptKind, RunStatus } from '../schema.js';
import { applyRowWrites } from './apply-row-writes.js';
import { lockRunState } from './run-state.js';
import { describeTransition, type RunTransition } from './run-transition.js';

/**
 * Cancels a PENDING or RUNNING run. Forward work not yet taken is withdrawn; an item some engine holds
 * (in flight, or whose engine died and whose lease will expire) finishes first and the engine unwinds after it.
 * Succeeded steps are compensated in reverse order; the run ends CANCELLED.
 */
export async function cancelRun(db: Db, runId: string): Promise<{ runId: string; status: RunStatus }> {
  const { status } = await cancelRunWithTransition(db, runId);
  return { runId, status };
}

/** cancelRun, also reporting the committed transition (for the caller's log line and metrics). */
export async function cancelRunWithTransition(
  db: Db,
  runId: string,
): Promise<{ runId: string; status: RunStatus; transition: RunTransition }> {
  return db.transaction().execute(async (trx) => {
    const run = await lockRunState(trx, runId);
    if (!run) throw new NotFoundError(`run ${runId} not found`);

    // SKIP LOCKED: a row locked right now is being claimed by an engine, so it counts as leased.
    const { rows } = await sql<{ id: string; step_index: number; kind: AttemptKind; lease_owner: string | null }>`
      select id, step_index, kind, lease_owner from outbox
       where run_id = ${runId} and status = 'READY'
         for update skip locked
    `.execute(trx);
    let live = rows[0];
    let leased = live ? live.lease_owner !== null : false;
    if (!live) {
      const locked = await trx
        .selectFrom('outbox')
        .select(['id', 'step_index', 'kind', 'lease_owner'])
        .where('run_id', '=', runId)
        .where('status', '=', 'READY')
        .executeTakeFirst();
      if (locked) [live, leased] = [locked, true];
    }

    const decision = planCancel(run, live ? { stepIndex: live.step_index, kind: live.kind, leased } : undefined);
    if (!decision.ok) throw new ConflictError(decision.reason);
    // a leased item is its holder's: the plan keeps it; an unleased one is withdrawn or moved on by the writes
    const item =
      live && !leased ? { id: live.id, stepIndex: live.step_index, kind: live.kind, leaseToken: null } : undefined;
    await applyRowWrites(trx, [rowWrites(run, decision.plan, { item })]);
    const transition = describeTransition(run, decision.plan.run?.status);
    return { runId, status: transition.to, transition };
  });
}
