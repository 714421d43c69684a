import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

// bigint columns (ids, counts) stay strings; int8 counts are cast in SQL where a number is wanted.
export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /** Abort a connection attempt after this long (so /ready answers quickly when Postgres is down). */
  connectionTimeoutMillis?: number;
}

export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'sagaflow',
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (Postgres restart) must not crash the process;
  // the next checkout gets a fresh connection.
  pool.on('error', () => {});
  // A checked-out client (e.g. inside a transaction between two statements) has no error listener of its own:
  // a server shutdown then emits an unhandled 'error' and kills the process. Its query fails anyway and the
  // pool discards it on release (it is no longer queryable).
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
