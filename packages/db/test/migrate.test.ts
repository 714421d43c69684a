import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, createPool, migrateToLatest, MIGRATIONS_DIR } from '../src/index.js';
import { replaceDatabaseName } from '../src/testing/index.js';

// set by the vitest globalSetup (a throwaway local Postgres) when not given
const ADMIN_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MIGRATE_CLI = fileURLToPath(new URL('../src/cli/migrate.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const created: string[] = [];

/** A brand-new EMPTY database (plain CREATE DATABASE, not the migrated template); dropped after the file. */
async function createEmptyDatabase(): Promise<string> {
  const name = `sf_migrate_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template template0`);
  } finally {
    await admin.end();
  }
  created.push(name);
  return replaceDatabaseName(ADMIN_URL, name);
}

afterAll(async () => {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    for (const name of created) await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
});

async function migrationFiles(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
}

/** The recorded migrations and the public tables of a database. */
async function inspect(url: string): Promise<{ applied: string[]; tables: string[] }> {
  const pool = createPool(url, { max: 1 });
  try {
    const db = createDb(pool);
    const applied = await sql<{ name: string }>`select name from sagaflow_migrations order by name`.execute(db);
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name
    `.execute(db);
    return { applied: applied.rows.map((r) => r.name), tables: tables.rows.map((r) => r.table_name) };
  } finally {
    await pool.end();
  }
}

function runMigrateCli(url: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=development', '--import', TSX_LOADER, MIGRATE_CLI],
      { env: { ...process.env, DATABASE_URL: url }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

const SAGAFLOW_TABLES = ['outbox', 'run_steps', 'step_attempts', 'workflow_definitions', 'workflow_runs'];

describe('migrateToLatest', () => {
  it('three concurrent runners on an empty database apply each migration exactly once, without error', async () => {
    const url = await createEmptyDatabase();
    const files = await migrationFiles();
    const pools = [1, 2, 3].map(() => createPool(url, { max: 2 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrateToLatest(createDb(pool))));
      // together they applied every file once: one runner did the work, the others found nothing to do
      expect(results.flat().sort()).toEqual(files);
      expect(results.filter((applied) => applied.length > 0)).toHaveLength(1);

      const state = await inspect(url);
      expect(state.applied).toEqual(files);
      expect(state.tables).toEqual(expect.arrayContaining(SAGAFLOW_TABLES));

      // a later run applies nothing
      expect(await migrateToLatest(createDb(pools[0]!))).toEqual([]);
      expect((await inspect(url)).applied).toEqual(files);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('three concurrent `pnpm migrate` processes all exit 0 and leave one applied copy', async () => {
    const url = await createEmptyDatabase();
    const runs = await Promise.all([1, 2, 3].map(() => runMigrateCli(url)));
    for (const run of runs) expect(run.code, run.output).toBe(0);
    const outputs = runs.map((r) => r.output).join('\n');
    expect(outputs.match(/applied: /g) ?? []).toHaveLength(1);
    expect(outputs.match(/nothing to apply/g) ?? []).toHaveLength(2);

    const files = await migrationFiles();
    expect((await inspect(url)).applied).toEqual(files);

    const again = await runMigrateCli(url);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('nothing to apply');
  });
});
