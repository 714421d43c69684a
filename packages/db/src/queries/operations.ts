import { sql, type Selectable } from 'kysely';
import { NotFoundError } from '../errors.js';
import type { Db } from '../pool.js';
import type { OperationAction, OperationStatus, OperationsTable } from '../schema.js';
import { uuidv7 } from '../uuidv7.js';
import { OPERATIONS_CHANNEL } from './channels.js';
import { eligibleCondition } from './operation-eligibility.js';
import { runFilterConditions, type RunSearchFilter } from './search-runs.js';

/**
 * Bulk operations (docs/operations.md#bulk-operations): created here by the API with the set of runs fixed, then
 * processed by the engines (operation-batch.ts).
 */

export interface OperationRequest {
  action: OperationAction;
  /** the filter as given (stored and returned as is) */
  filter: Record<string, unknown>;
  /** the same filter, parsed */
  runFilter: RunSearchFilter;
  ratePerSecond: number;
  reason: string | null;
}

export interface OperationDryRun {
  matched: number;
  eligible: number;
  /** up to 10 eligible run ids, newest first */
  sample: string[];
}

export interface OperationView {
  operationId: string;
  action: OperationAction;
  status: OperationStatus;
  filter: Record<string, unknown>;
  reason: string | null;
  ratePerSecond: number;
  total: number;
  succeeded: number;
  skipped: number;
  failed: number;
  /** the first 100 failures, in the order they happened */
  errors: Array<{ runId: string; reason: string }>;
  createdAt: string;
  finishedAt: string | null;
}

const SAMPLE_SIZE = 10;
const ERRORS_SHOWN = 100;

/** What an operation with this filter would match and act on, writing nothing. */
export async function dryRunOperation(
  db: Db,
  action: OperationAction,
  filter: RunSearchFilter,
): Promise<OperationDryRun> {
  const conditions = runFilterConditions(filter);
  const eligible = eligibleCondition(action);
  const counts = await db
    .selectFrom('workflow_runs')
    .select([sql<string>`count(*)`.as('matched'), sql<string>`count(*) filter (where ${eligible})`.as('eligible')])
    .where((eb) => eb.and(conditions))
    .executeTakeFirstOrThrow();
  const sample = await db
    .selectFrom('workflow_runs')
    .select('id')
    .where((eb) => eb.and([...conditions, eligible]))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(SAMPLE_SIZE)
    .execute();
  return { matched: Number(counts.matched), eligible: Number(counts.eligible), sample: sample.map((r) => r.id) };
}

/**
 * Creates an operation: the runs the filter matches now are its runs (one operation_runs row each, PENDING), in the
 * same transaction as the operation row; the engines are woken at commit.
 */
export async function createOperation(
  db: Db,
  request: OperationRequest,
): Promise<{ operationId: string; matched: number }> {
  const operationId = uuidv7();
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('operations')
      .values({
        id: operationId,
        action: request.action,
        filter: JSON.stringify(request.filter),
        reason: request.reason,
        rate_per_second: request.ratePerSecond,
        total: 0,
      })
      .execute();
    const conditions = runFilterConditions(request.runFilter);
    const inserted = await trx
      .insertInto('operation_runs')
      .columns(['operation_id', 'run_id'])
      .expression((eb) =>
        eb
          .selectFrom('workflow_runs')
          .select([sql<string>`${operationId}::uuid`.as('operation_id'), 'id'])
          .where((w) => w.and(conditions)),
      )
      .executeTakeFirst();
    const matched = Number(inserted.numInsertedOrUpdatedRows ?? 0);
    await trx.updateTable('operations').set({ total: matched }).where('id', '=', operationId).execute();
    await sql`select pg_notify(${OPERATIONS_CHANNEL}, '')`.execute(trx);
    return { operationId, matched };
  });
}

type OperationRow = Selectable<OperationsTable>;

/** The views of these operation rows: progress counted from operation_runs, the first failures of each. */
async function viewsOf(db: Db, rows: OperationRow[]): Promise<OperationView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const counts = await db
    .selectFrom('operation_runs')
    .select(['operation_id', 'state', sql<string>`count(*)`.as('n')])
    .where('operation_id', 'in', ids)
    .where('state', '<>', 'PENDING')
    .groupBy(['operation_id', 'state'])
    .execute();
  const { rows: errors } = await sql<{ operation_id: string; run_id: string; reason: string | null }>`
    select e.operation_id, e.run_id, e.reason
      from unnest(${ids}::uuid[]) as o(id)
      cross join lateral (
        select operation_id, run_id, reason from operation_runs
         where operation_id = o.id and state = 'FAILED'
         order by done_at, run_id limit ${ERRORS_SHOWN}
      ) e
  `.execute(db);
  return rows.map((row) => {
    const count = (state: string) => Number(counts.find((c) => c.operation_id === row.id && c.state === state)?.n ?? 0);
    return {
      operationId: row.id,
      action: row.action,
      status: row.status,
      filter: row.filter,
      reason: row.reason,
      ratePerSecond: row.rate_per_second,
      total: row.total,
      succeeded: count('SUCCEEDED'),
      skipped: count('SKIPPED'),
      failed: count('FAILED'),
      errors: errors
        .filter((e) => e.operation_id === row.id)
        .map((e) => ({ runId: e.run_id, reason: e.reason ?? 'unknown' })),
      createdAt: row.created_at.toISOString(),
      finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    };
  });
}

/** An operation with its progress; undefined when unknown. */
export async function getOperation(db: Db, operationId: string): Promise<OperationView | undefined> {
  const row = await db.selectFrom('operations').selectAll().where('id', '=', operationId).executeTakeFirst();
  return row ? (await viewsOf(db, [row]))[0] : undefined;
}

/** A page of operations, newest first (ids are UUIDv7: their order is creation order), after the operation `after`. */
export async function listOperations(
  db: Db,
  options: { limit: number; after?: string | undefined },
): Promise<{ items: OperationView[]; next: string | undefined }> {
  let query = db
    .selectFrom('operations')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(options.limit + 1);
  if (options.after) query = query.where('id', '<', options.after);
  const rows = await query.execute();
  const page = rows.slice(0, options.limit);
  return { items: await viewsOf(db, page), next: rows.length > options.limit ? page.at(-1)?.id : undefined };
}

/**
 * Cancels a RUNNING operation: waits for the batches being processed (they hold the row FOR KEY SHARE) to commit, so
 * that once this returns no further run is acted on. What was done stays done; the runs not reached stay PENDING.
 * A finished operation is left as it is. Returns the operation's status after.
 */
export async function cancelOperation(db: Db, operationId: string): Promise<{ status: OperationStatus }> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('operations')
      .select('status')
      .where('id', '=', operationId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`operation ${operationId} not found`);
    if (row.status !== 'RUNNING') return { status: row.status };
    await trx
      .updateTable('operations')
      .set({ status: 'CANCELLED', finished_at: sql<Date>`now()` })
      .where('id', '=', operationId)
      .execute();
    return { status: 'CANCELLED' as const };
  });
}
