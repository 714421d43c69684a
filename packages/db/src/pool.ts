import { Kysely, PostgresDialect, type RawBuilder } from 'kysely';
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

/** Called with how long a checkout waited for a connection, in seconds (failed checkouts, e.g. a timeout, included). */
export type PoolWaitObserver = (seconds: number) => void;

const waitObservers = new WeakMap<pg.Pool, Set<PoolWaitObserver>>();

/**
 * Times every checkout of `pool` — `pool.connect()` and the checkout inside `pool.query()` — from the request to the
 * moment a connection (an idle one, a new one, or one released by another query) is handed over, and tells `observe`.
 * The pool's `connect` is wrapped once per pool; the cost is two `performance.now()` per checkout. Returns the
 * function that stops observing.
 */
export function observePoolWaits(pool: pg.Pool, observe: PoolWaitObserver): () => void {
  let observers = waitObservers.get(pool);
  if (!observers) {
    const set = new Set<PoolWaitObserver>();
    observers = set;
    waitObservers.set(pool, set);
    const connect = pool.connect.bind(pool) as (callback?: ConnectCallback) => Promise<pg.PoolClient> | undefined;
    const report = (startedAt: number) => {
      const seconds = (performance.now() - startedAt) / 1000;
      for (const observer of set) observer(seconds);
    };
    // pg-pool's query() checks out through this.connect(callback); Kysely and LISTEN connections call connect().
    (pool as { connect: (callback?: ConnectCallback) => unknown }).connect = (callback?: ConnectCallback) => {
      const startedAt = performance.now();
      if (callback)
        return connect((error, client, done) => {
          report(startedAt);
          callback(error, client, done);
        });
      return connect()!.then(
        (client) => {
          report(startedAt);
          return client;
        },
        (error: unknown) => {
          report(startedAt);
          throw error;
        },
      );
    };
  }
  observers.add(observe);
  return () => observers.delete(observe);
}

type ConnectCallback = (
  error: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

const pools = new WeakMap<Db, pg.Pool>();

export function createDb(pool: pg.Pool): Db {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  pools.set(db, pool);
  return db;
}

/** The pool behind a handle made by createDb (for a dedicated connection, e.g. LISTEN). */
export function poolOf(db: Db): pg.Pool | undefined {
  return pools.get(db);
}

/**
 * Runs one of the hot statements (start, claim, completion) as a named prepared statement: each pooled connection
 * parses and plans it once instead of on every call. `name` must always go with the same SQL text. Falls back to a
 * plain execution when `db` is not a handle made by createDb (a transaction, say).
 *
 * A connection keeps its prepared statements for its whole life, so a migration that changes the type of a column a
 * statement returns would make Postgres refuse that statement on every connection that prepared it before ("cached plan
 * must not change result type"), until the process restarts. pool.query closes a connection whose statement failed, so
 * such a refusal is simply run again, on another connection or a new one, until one prepares it afresh: at most once per
 * pooled connection. The refused execution ran in an implicit transaction of its own and changed nothing.
 */
export async function executePrepared<R>(db: Db, name: string, query: RawBuilder<R>): Promise<R[]> {
  const pool = pools.get(db);
  if (!pool) return (await query.execute(db)).rows;
  const compiled = query.compile(db);
  const config = { name, text: compiled.sql, values: compiled.parameters as unknown[] };
  for (let refusals = 0; ; refusals++) {
    try {
      return (await pool.query(config)).rows as R[];
    } catch (error) {
      if (!isStalePreparedStatement(error) || refusals > pool.options.max) throw error;
    }
  }
}

/** Postgres' refusal of a prepared statement whose result columns changed type since it was prepared (SQLSTATE 0A000). */
function isStalePreparedStatement(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === '0A000' &&
    String((error as { message?: unknown }).message).includes('cached plan must not change result type')
  );
}
