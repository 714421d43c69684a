import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { createDb, createPool } from '../pool.js';
import type { Database } from '../schema.js';
import { readAdminUrl, replaceDatabaseName } from './database-url.js';
import { ensureTemplateDatabase } from './template-database.js';

export interface TestDatabase {
  /** Connection string of this database (hand it to spawned services as DATABASE_URL). */
  url: string;
  pool: pg.Pool;
  db: Kysely<Database>;
  /** Closes the pool and drops the database, ending any other connections to it. Idempotent. */
  drop(): Promise<void>;
}

/**
 * A fresh, fully migrated database of its own (cloned from the migrated template, so it takes
 * milliseconds), on the server DATABASE_URL points at.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = readAdminUrl();
  const template = await ensureTemplateDatabase(adminUrl);
  const name = `sagaflow_test_${randomBytes(6).toString('hex')}`;
  await runAdminQuery(adminUrl, (admin) =>
    admin.query(`create database ${admin.escapeIdentifier(name)} template ${admin.escapeIdentifier(template)}`),
  );
  const url = replaceDatabaseName(adminUrl, name);
  const pool = createPool(url, { applicationName: 'sagaflow-test' });
  const db = createDb(pool);
  let dropped: Promise<void> | undefined;
  const drop = (): Promise<void> =>
    (dropped ??= (async () => {
      await db.destroy();
      await runAdminQuery(adminUrl, (admin) =>
        admin.query(`drop database if exists ${admin.escapeIdentifier(name)} with (force)`),
      );
    })());
  return { url, pool, db, drop };
}

async function runAdminQuery(adminUrl: string, run: (admin: pg.Client) => Promise<unknown>): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl, application_name: 'sagaflow-test-admin' });
  await admin.connect();
  try {
    await run(admin);
  } finally {
    await admin.end();
  }
}
