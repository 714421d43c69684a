import type pg from 'pg';

/** One statement a client sent to Postgres, with its bound values. */
export interface SentStatement {
  text: string;
  values: unknown[];
}

export interface StatementRecorder {
  /** Runs `action` and returns every statement the pool's connections sent meanwhile, in order. */
  during(action: () => Promise<unknown>): Promise<SentStatement[]>;
}

type QueryArgs = [string | { text?: string; values?: unknown[] }, unknown?, ...unknown[]];

/**
 * Watches what a pool really sends (whatever path a query function takes: a named prepared statement through
 * `pool.query`, Kysely on a checked-out client, a transaction): every client the pool opens from now on reports
 * its statements. Nothing is changed or faked; the statements still run on Postgres. Attach before the pool's
 * first query.
 */
export function recordStatements(pool: pg.Pool): StatementRecorder {
  let sink: SentStatement[] | undefined;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: QueryArgs) => unknown;
    (client as unknown as { query: (...args: QueryArgs) => unknown }).query = (...args: QueryArgs) => {
      const [first, second] = args;
      const text = typeof first === 'string' ? first : first.text;
      const values = typeof first === 'string' ? second : first.values;
      if (sink && text !== undefined) sink.push({ text, values: Array.isArray(values) ? values : [] });
      return query(...args);
    };
  });
  return {
    async during(action) {
      const sent: SentStatement[] = [];
      sink = sent;
      try {
        await action();
      } finally {
        sink = undefined;
      }
      return sent;
    },
  };
}
