import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { hashMigrationFiles } from '../src/testing/migrations-hash.js';

const created: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(created.map((database) => database.drop()));
});

async function newDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  created.push(database);
  return database;
}

async function listTables(database: TestDatabase): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' order by table_name
  `.execute(database.db);
  return rows.map((row) => row.table_name);
}

describe('createTestDatabase', () => {
  it('gives each caller its own database with the schema tables', async () => {
    const first = await newDatabase();
    const second = await newDatabase();
    expect(first.url).not.toBe(second.url);
    for (const database of [first, second]) {
      expect(await listTables(database)).toEqual(
        expect.arrayContaining(['workflow_definitions', 'workflow_runs', 'run_steps', 'step_attempts', 'outbox']),
      );
    }
    await sql`create table only_in_first (id int)`.execute(first.db);
    expect(await listTables(first)).toContain('only_in_first');
    expect(await listTables(second)).not.toContain('only_in_first');
  });

  it('works for many concurrent callers', async () => {
    const databases = await Promise.all(Array.from({ length: 6 }, () => newDatabase()));
    expect(new Set(databases.map((database) => database.url)).size).toBe(6);
    const counts = await Promise.all(
      databases.map(
        async (database) => (await database.pool.query('select count(*)::int as n from workflow_runs')).rows[0],
      ),
    );
    expect(counts).toEqual(databases.map(() => ({ n: 0 })));
  });

  it('drops the database, idempotently, even with other connections open', async () => {
    const database = await createTestDatabase();
    const other = new pg.Client(database.url);
    other.on('error', () => {}); // the drop terminates this session
    await other.connect();
    await database.drop();
    await database.drop();
    const admin = new pg.Client(process.env.DATABASE_URL);
    await admin.connect();
    const name = new URL(database.url).pathname.slice(1);
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [name]);
    await admin.end();
    await other.end().catch(() => {});
    expect(rowCount).toBe(0);
  });
});

describe('hashMigrationFiles', () => {
  it('changes when a migration changes or is added, not when the listing order does', () => {
    const base = [
      { name: '001_init.sql', text: 'create table a ();' },
      { name: '002_more.sql', text: 'create table b ();' },
    ];
    const hash = hashMigrationFiles(base);
    expect(hashMigrationFiles([...base].reverse())).toBe(hash);
    expect(hashMigrationFiles([base[0]!, { name: '002_more.sql', text: 'create table c ();' }])).not.toBe(hash);
    expect(hashMigrationFiles([...base, { name: '003_x.sql', text: '' }])).not.toBe(hash);
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
  });
});
