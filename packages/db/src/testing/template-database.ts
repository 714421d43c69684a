import pg from 'pg';
import { migrateToLatest } from '../migrator.js';
import { createDb, createPool } from '../pool.js';
import { replaceDatabaseName } from './database-url.js';
import { hashMigrationFiles, readMigrationFiles } from './migrations-hash.js';

/** Session advisory lock key serialising template creation across test processes ("sagaflow" in ASCII). */
const TEMPLATE_LOCK_KEY = 0x73616761;

const templates = new Map<string, Promise<string>>();

/**
 * The name of a database migrated to the current migrations/sql, marked IS_TEMPLATE and closed to
 * connections, created once per server (`sagaflow_template_<hash of the migration files>`) under an
 * advisory lock so parallel test processes do not race. Memoised per process.
 */
export function ensureTemplateDatabase(adminUrl: string): Promise<string> {
  let template = templates.get(adminUrl);
  if (!template) {
    template = createTemplateOnce(adminUrl);
    templates.set(adminUrl, template);
    template.catch(() => templates.delete(adminUrl));
  }
  return template;
}

async function createTemplateOnce(adminUrl: string): Promise<string> {
  const name = `sagaflow_template_${hashMigrationFiles(await readMigrationFiles())}`;
  const admin = new pg.Client({ connectionString: adminUrl, application_name: 'sagaflow-test-admin' });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    const existing = await admin.query('select 1 from pg_database where datname = $1 and datistemplate', [name]);
    if (existing.rowCount === 0) await buildTemplate(admin, adminUrl, name);
    return name;
  } finally {
    await admin.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]).catch(() => {});
    await admin.end();
  }
}

/** A database that is not yet marked as a template is a leftover of a crashed build: start over. */
async function buildTemplate(admin: pg.Client, adminUrl: string, name: string): Promise<void> {
  const quoted = admin.escapeIdentifier(name);
  await admin.query(`drop database if exists ${quoted} with (force)`);
  await admin.query(`create database ${quoted}`);
  const db = createDb(
    createPool(replaceDatabaseName(adminUrl, name), { max: 1, applicationName: 'sagaflow-test-template' }),
  );
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  // Closed to connections, so nothing can linger on it and block CREATE DATABASE ... TEMPLATE.
  await admin.query(`alter database ${quoted} with is_template true allow_connections false`);
}
