import { sql, type Expression, type SqlBool } from 'kysely';
import { RUN_TRANSITIONS } from '@sagaflow/saga';
import type { Db } from '../pool.js';
import type { RunError, RunStatus } from '../schema.js';

/**
 * Run search and counts (SPEC §13, docs/operations.md#search): straight off workflow_runs, newest first, with keyset
 * positions. The indexes of migrations/sql/004_search.sql keep every single-filter query one index range scan; every
 * query runs under a statement timeout so a combination without an index fails fast instead of hanging.
 */

/** The filters of GET /v1/runs, all optional, combined with AND. */
export interface RunSearchFilter {
  statuses?: readonly RunStatus[];
  workflowName?: string;
  workflowVersion?: string;
  correlationId?: string;
  idempotencyKey?: string;
  /** error.code */
  errorCode?: string;
  /** error.stepId */
  stepId?: string;
  /** inclusive; ISO 8601 */
  createdAfter?: string;
  /** exclusive; ISO 8601 */
  createdBefore?: string;
  /** runs whose input contains this object (jsonb @>) */
  input?: Record<string, unknown>;
  /** runs whose context contains this object (jsonb @>) */
  context?: Record<string, unknown>;
  /**
   * true: runs waiting for a retry now — their live outbox item is unleased and due later, and it is not a sleep or
   * a wait for a signal (an extension of SPEC §13: the console's "retrying now" chip)
   */
  retrying?: boolean;
}

/** A run's place in the search order: its exact created_at (microseconds, UTC, ISO 8601) and id. */
export interface RunPosition {
  createdAt: string;
  runId: string;
}

/** A run in a search result (SPEC §13): no input, context or outputs. */
export interface RunSummary {
  runId: string;
  workflowName: string;
  workflowVersion: string;
  status: RunStatus;
  error: RunError | null;
  correlationId: string;
  paused: boolean;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

export interface RunSearchPage {
  items: RunSummary[];
  /** where the next page starts; undefined when this page is the last */
  next: RunPosition | undefined;
}

/** Thrown when a search or count ran past its statement timeout (the API answers 503 QUERY_TIMEOUT). */
export class QueryTimeoutError extends Error {
  override name = 'QueryTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`the query took longer than ${timeoutMs} ms; narrow the filters (a time range, a workflow name or a status)`);
  }
}

export const RUN_STATUSES = Object.keys(RUN_TRANSITIONS) as RunStatus[];

/** The columns a summary is read from. */
const SUMMARY_COLUMNS = [
  'id',
  'workflow_name',
  'workflow_version',
  'status',
  'error',
  'correlation_id',
  'created_at',
  'updated_at',
  'completed_at',
  'paused_at',
] as const;

interface SummaryRow {
  id: string;
  workflow_name: string;
  workflow_version: string;
  status: RunStatus;
  error: RunError | null;
  correlation_id: string;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
  paused_at: Date | null;
}

/** The one mapping of a workflow_runs row to a RunSummary (`paused`: the run's own flag, as GET /v1/runs/{id}). */
export function toRunSummary(row: SummaryRow): RunSummary {
  return {
    runId: row.id,
    workflowName: row.workflow_name,
    workflowVersion: row.workflow_version,
    status: row.status,
    error: row.error,
    correlationId: row.correlation_id,
    paused: row.paused_at !== null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    completedAt: row.completed_at ? row.completed_at.toISOString() : null,
  };
}

/**
 * The filter as SQL conditions on workflow_runs, each written as its index expects (the error keys as literals, the
 * partial indexes' `error is not null`). Also for other readers of the same filters (bulk operations).
 */
export function runFilterConditions(filter: RunSearchFilter): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = [];
  if (filter.statuses && filter.statuses.length > 0) {
    conditions.push(
      filter.statuses.length === 1
        ? sql<SqlBool>`status = ${filter.statuses[0]}`
        : sql<SqlBool>`status in (${sql.join([...filter.statuses])})`,
    );
  }
  if (filter.workflowName !== undefined) conditions.push(sql<SqlBool>`workflow_name = ${filter.workflowName}`);
  if (filter.workflowVersion !== undefined) conditions.push(sql<SqlBool>`workflow_version = ${filter.workflowVersion}`);
  if (filter.correlationId !== undefined) conditions.push(sql<SqlBool>`correlation_id = ${filter.correlationId}`);
  if (filter.idempotencyKey !== undefined) conditions.push(sql<SqlBool>`idempotency_key = ${filter.idempotencyKey}`);
  if (filter.errorCode !== undefined) {
    conditions.push(sql<SqlBool>`error is not null and (error ->> 'code') = ${filter.errorCode}`);
  }
  if (filter.stepId !== undefined) {
    conditions.push(sql<SqlBool>`error is not null and (error ->> 'stepId') = ${filter.stepId}`);
  }
  if (filter.createdAfter !== undefined)
    conditions.push(sql<SqlBool>`created_at >= ${filter.createdAfter}::timestamptz`);
  if (filter.createdBefore !== undefined)
    conditions.push(sql<SqlBool>`created_at < ${filter.createdBefore}::timestamptz`);
  if (filter.input !== undefined) conditions.push(sql<SqlBool>`input @> ${JSON.stringify(filter.input)}::jsonb`);
  if (filter.context !== undefined) conditions.push(sql<SqlBool>`context @> ${JSON.stringify(filter.context)}::jsonb`);
  if (filter.retrying) {
    // driven from the outbox's live items (one per unfinished run, never the whole table of runs); a paused run's
    // retry keeps its due time in held_due_at
    conditions.push(sql<SqlBool>`id in (
      select o.run_id from outbox o
        join run_steps s on s.run_id = o.run_id and s.step_index = o.step_index
       where o.status = 'READY' and o.lease_token is null and coalesce(o.held_due_at, o.due_at) > now()
         and s.wait_for is null)`);
  }
  return conditions;
}

const QUERY_CANCELED = '57014';

/** Runs `read` in a transaction whose statements are cancelled after `timeoutMs` (QueryTimeoutError). */
async function withStatementTimeout<T>(db: Db, timeoutMs: number, read: (trx: Db) => Promise<T>): Promise<T> {
  try {
    return await db.transaction().execute(async (trx) => {
      await sql`select set_config('statement_timeout', ${String(timeoutMs)}, true)`.execute(trx);
      return read(trx);
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === QUERY_CANCELED) throw new QueryTimeoutError(timeoutMs);
    throw error;
  }
}

/**
 * How many of the newest runs (after the cursor) a containment search (`input` / `context`) reads in order before it
 * asks the GIN index for the older ones. A common value (say 1 run in 100) is then found among recent rows, which are
 * in shared buffers, instead of through a bitmap over thousands of rows spread over the whole table; a rare value
 * costs the walk (≈ 1,300 recent pages at most) plus the GIN lookup. docs/performance.md#search
 */
export const CONTAINMENT_WINDOW = 10_000;

/**
 * One page of runs matching `filter`, newest first (created_at desc, id desc), starting after `after`. Reads
 * `limit + 1` rows to know whether another page follows. Runs are never moved in this order (created_at and id are
 * fixed at the start), so walking the pages returns each run that existed when the walk began exactly once.
 */
export async function searchRuns(
  db: Db,
  filter: RunSearchFilter,
  options: { limit: number; after?: RunPosition; timeoutMs: number; containmentWindow?: number },
): Promise<RunSearchPage> {
  const { after, limit } = options;
  const conditions = runFilterConditions(filter);
  const position = after
    ? sql<SqlBool>`(created_at, id) < (${after.createdAt}::timestamptz, ${after.runId}::uuid)`
    : undefined;
  const where = (extra: Array<Expression<SqlBool> | undefined>) => {
    const all = [...conditions, ...extra].filter((c): c is Expression<SqlBool> => c !== undefined);
    return all.length > 0 ? sql`where ${sql.join(all, sql` and `)}` : sql``;
  };
  const columns = sql.join([
    ...SUMMARY_COLUMNS.map((c) => sql.ref(c)),
    sql`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position_at`,
  ]);
  const window = options.containmentWindow ?? CONTAINMENT_WINDOW;
  const query =
    filter.input === undefined && filter.context === undefined
      ? sql<PageRow>`select ${columns} from workflow_runs ${where([position])}
          order by created_at desc, id desc limit ${limit + 1}`
      : // containment: the matches among the newest `window` runs (one backward walk of workflow_runs_created that
        // stops at limit + 1 matches), then — only when they are too few — the older matches through the GIN index
        sql<PageRow>`with recent as (
            select ${columns}
              from (select * from workflow_runs ${position ? sql`where ${position}` : sql``}
                     order by created_at desc, id desc limit ${window}) newest
              ${where([])}
             order by created_at desc, id desc limit ${limit + 1}
          )
          select * from recent
          union all
          (select ${columns} from workflow_runs
            ${where([
              sql<SqlBool>`(created_at, id) < (select created_at, id from workflow_runs ${position ? sql`where ${position}` : sql``}
                                                order by created_at desc, id desc offset ${window - 1} limit 1)`,
              sql<SqlBool>`(select count(*) from recent) <= ${limit}`,
            ])}
            order by created_at desc, id desc limit ${limit + 1})`;
  const rows = await withStatementTimeout(db, options.timeoutMs, async (trx) => (await query.execute(trx)).rows);
  // the union's two parts are each in order and the second is older than the first; sort anyway (no reliance on
  // the order of a union)
  rows.sort((a, b) =>
    a.position_at === b.position_at ? b.id.localeCompare(a.id) : b.position_at.localeCompare(a.position_at),
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toRunSummary),
    next: rows.length > limit && last ? { createdAt: last.position_at, runId: last.id } : undefined,
  };
}

interface PageRow extends SummaryRow {
  position_at: string;
}

/** How many runs match `filter`, in all and per status (every status present, 0 when none). */
export async function countRuns(
  db: Db,
  filter: RunSearchFilter,
  options: { timeoutMs: number },
): Promise<{ total: number; byStatus: Record<RunStatus, number> }> {
  const conditions = runFilterConditions(filter);
  const rows = await withStatementTimeout(db, options.timeoutMs, (trx) =>
    trx
      .selectFrom('workflow_runs')
      .select(['status', sql<number>`count(*)::int8`.as('n')])
      .where((eb) => eb.and(conditions))
      .groupBy('status')
      .execute(),
  );
  const byStatus = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<RunStatus, number>;
  let total = 0;
  for (const row of rows) {
    const n = Number(row.n);
    byStatus[row.status] = n;
    total += n;
  }
  return { total, byStatus };
}
