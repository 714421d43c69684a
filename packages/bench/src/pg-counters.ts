import { BENCH_MARKER, type BenchMonitor } from './bench-monitor.js';

export interface StatementCount {
  query: string;
  /** false: run inside another statement (foreign-key checks, triggers), not a round trip */
  toplevel: boolean;
  calls: number;
  totalMs: number;
  rows: number;
}

export interface PgCounters {
  xactCommit: number;
  xactRollback: number;
  /** by queryid; undefined when pg_stat_statements is not loaded */
  statements: Map<string, StatementCount> | undefined;
}

export interface PgCounterDelta {
  commits: number;
  rollbacks: number;
  /** top-level statements the services sent (the bench's own left out), undefined without pg_stat_statements */
  statements: number | undefined;
  /** statements run inside those (foreign-key checks) */
  nestedStatements: number | undefined;
  /** the services' statements by calls, most called first */
  topStatements: StatementCount[] | undefined;
}

type Query = <Row extends object>(text: string, values?: unknown[]) => Promise<Row[]>;

const DATABASE_SQL = `select xact_commit::float8 as commit, xact_rollback::float8 as rollback
  from pg_stat_database where datname = current_database()`;
const STATEMENTS_SQL = `select queryid::text || ':' || toplevel::text as id, toplevel, query, calls::float8 as calls, total_exec_time as total_ms, rows::float8 as rows
  from pg_stat_statements
 where dbid = (select oid from pg_database where datname = current_database())
   and query not like '${BENCH_MARKER}%'`;

/** Reads the database's commit counters and, when available, pg_stat_statements. */
export async function readPgCounters(query: Query, withStatements: boolean): Promise<PgCounters> {
  const [database] = await query<{ commit: number; rollback: number }>(DATABASE_SQL);
  if (!database) throw new Error('pg_stat_database has no row for the current database');
  let statements: Map<string, StatementCount> | undefined;
  if (withStatements) {
    statements = new Map();
    for (const row of await query<{
      id: string;
      toplevel: boolean;
      query: string;
      calls: number;
      total_ms: number;
      rows: number;
    }>(STATEMENTS_SQL)) {
      const seen = statements.get(row.id);
      statements.set(row.id, {
        query: row.query,
        toplevel: row.toplevel,
        calls: (seen?.calls ?? 0) + row.calls,
        totalMs: (seen?.totalMs ?? 0) + row.total_ms,
        rows: (seen?.rows ?? 0) + row.rows,
      });
    }
  }
  return { xactCommit: database.commit, xactRollback: database.rollback, statements };
}

/** What the services did between two reads; `ownTransactions` (the bench's statements in between) are subtracted. */
export function diffPgCounters(before: PgCounters, after: PgCounters, ownTransactions: number): PgCounterDelta {
  let topStatements: StatementCount[] | undefined;
  if (before.statements && after.statements) {
    topStatements = [];
    for (const [id, now] of after.statements) {
      const then = before.statements.get(id);
      const calls = now.calls - (then?.calls ?? 0);
      if (calls > 0)
        topStatements.push({
          query: now.query,
          toplevel: now.toplevel,
          calls,
          totalMs: now.totalMs - (then?.totalMs ?? 0),
          rows: now.rows - (then?.rows ?? 0),
        });
    }
    topStatements.sort((a, b) => b.calls - a.calls);
  }
  return {
    commits: after.xactCommit - before.xactCommit - ownTransactions,
    rollbacks: after.xactRollback - before.xactRollback,
    statements: topStatements?.filter((s) => s.toplevel).reduce((total, s) => total + s.calls, 0),
    nestedStatements: topStatements?.filter((s) => !s.toplevel).reduce((total, s) => total + s.calls, 0),
    topStatements,
  };
}

export function monitorQuery(monitor: BenchMonitor): Query {
  return (text, values) => monitor.query(text, values);
}
