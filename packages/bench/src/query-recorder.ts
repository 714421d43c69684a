import type { createPool } from './db-access.js';

export interface RecordedStatement {
  text: string;
  values: unknown[];
}

type Pool = ReturnType<typeof createPool>;
type QueryFn = (text: unknown, ...rest: unknown[]) => unknown;

/**
 * Records every statement the pool's connections send while `recording`; with `dryRun`, a transaction's `commit`
 * is sent as `rollback`, so a db function can be run for its statements without changing the data.
 */
export class QueryRecorder {
  recording = false;
  dryRun = false;
  statements: RecordedStatement[] = [];

  constructor(pool: Pool) {
    pool.on('connect', (client) => {
      const target = client as unknown as { query: QueryFn };
      const original = target.query.bind(client) as QueryFn;
      // (text, values?, callback?): pool.query passes a callback, Kysely awaits the promise
      target.query = (text, ...rest) => {
        if (typeof text === 'string' && this.recording) {
          this.statements.push({ text, values: Array.isArray(rest[0]) ? [...(rest[0] as unknown[])] : [] });
          if (this.dryRun && text.trim().toLowerCase() === 'commit') return original('rollback', ...rest);
        }
        return original(text, ...rest);
      };
    });
  }

  /** Runs fn and returns the statements it sent (its transaction rolled back when dryRun). */
  async record(fn: () => Promise<unknown>, options: { dryRun: boolean }): Promise<RecordedStatement[]> {
    this.statements = [];
    this.recording = true;
    this.dryRun = options.dryRun;
    try {
      await fn().catch((error: unknown) => {
        // Kysely notices the swapped commit and says so: that is the point of a dry run
        if (!(options.dryRun && error instanceof Error && error.name === 'AbortedTransactionError')) throw error;
      });
      return this.statements;
    } finally {
      this.recording = false;
      this.dryRun = false;
    }
  }
}

const TRANSACTION_CONTROL = /^(begin|commit|rollback)\b/i;

/** EXPLAIN (ANALYZE, BUFFERS) of each recorded statement, replayed in one transaction that is rolled back. */
export async function explainStatements(
  pool: Pool,
  statements: readonly RecordedStatement[],
): Promise<Array<{ text: string; plan: string }>> {
  const client = await pool.connect();
  const plans: Array<{ text: string; plan: string }> = [];
  try {
    await client.query('begin');
    for (const statement of statements) {
      if (TRANSACTION_CONTROL.test(statement.text.trim())) continue;
      const result = await client.query<{ 'QUERY PLAN': string }>(
        `explain (analyze, buffers, costs off) ${statement.text}`,
        statement.values,
      );
      plans.push({ text: statement.text, plan: result.rows.map((r) => r['QUERY PLAN']).join('\n') });
    }
  } finally {
    await client.query('rollback');
    client.release();
  }
  return plans;
}
