import { sql } from 'kysely';
import type pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createDb, createPool, executePrepared, type Db } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';

/**
 * The hot statements are prepared once per connection (executePrepared). A migration that changes the type of a column
 * such a statement returns must not leave the connections that prepared it refusing it until a restart.
 */

let database: TestDatabase;
let pool: pg.Pool;
let single: Db;
beforeEach(async () => {
  database = await createTestDatabase();
  await sql`create table prepared_probe (id int primary key, amount int not null)`.execute(database.db);
  await sql`insert into prepared_probe values (1, 42)`.execute(database.db);
  // one connection: every call below runs on the connection that prepared the statement
  pool = createPool(database.url, { max: 1 });
  single = createDb(pool);
});
afterEach(async () => {
  await single?.destroy();
  await database?.drop();
});

const probe = () => sql<{ amount: unknown }>`select amount from prepared_probe where id = ${1}`;

async function preparedOnConnection(): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(single);
  return rows.map((r) => r.name);
}

it('prepares a statement once per connection and reuses it', async () => {
  expect(await executePrepared(single, 'probe_amount', probe())).toEqual([{ amount: 42 }]);
  expect(await executePrepared(single, 'probe_amount', probe())).toEqual([{ amount: 42 }]);
  expect(await preparedOnConnection()).toEqual(['probe_amount']);
});

it('runs again a statement whose result type a migration changed: the refusing connection is replaced', async () => {
  expect(await executePrepared(single, 'probe_amount', probe())).toEqual([{ amount: 42 }]);
  // what a migration does while the process runs; Postgres then refuses the old prepared statement on this connection
  await sql`alter table prepared_probe alter column amount type bigint`.execute(database.db);
  const client = await pool.connect();
  await expect(client.query('execute probe_amount(1)')).rejects.toThrow(/cached plan must not change result type/);
  client.release(); // kept in the pool, still holding the refused statement

  // bigint comes back as a string: the statement was prepared afresh, against the new column type
  expect(await executePrepared(single, 'probe_amount', probe())).toEqual([{ amount: '42' }]);
  expect(await executePrepared(single, 'probe_amount', probe())).toEqual([{ amount: '42' }]);
  expect(await preparedOnConnection()).toEqual(['probe_amount']);
  expect(pool.totalCount).toBe(1);
});

it('passes other errors through and closes the connection, as a pooled query does', async () => {
  await expect(
    executePrepared(single, 'probe_missing', sql`select amount from prepared_probe_missing`),
  ).rejects.toMatchObject({ code: '42P01' });
  expect(pool.totalCount).toBe(0); // the failed statement's connection was closed, not returned to the pool
  expect(await executePrepared(single, 'probe_amount', probe())).toEqual([{ amount: 42 }]);
});
