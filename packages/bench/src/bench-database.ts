import { randomBytes } from 'node:crypto';
import { createDb, createPool, migrateToLatest, replaceDatabaseNameInUrl } from './db-access.js';

export interface BenchDatabase {
  name: string;
  url: string;
  /** true when pg_stat_statements answers in this database (the library is preloaded on the server) */
  statementsAvailable: boolean;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one scenario run, on the server adminUrl points at. */
export async function createBenchDatabase(adminUrl: string, label: string): Promise<BenchDatabase> {
  const name = `sagaflow_bench_${label.replace(/[^a-z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`;
  const admin = createPool(adminUrl, { max: 1, applicationName: 'sagaflow-bench' });
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = replaceDatabaseNameInUrl(adminUrl, name);
  const pool = createPool(url, { max: 1, applicationName: 'sagaflow-bench' });
  const db = createDb(pool);
  let statementsAvailable = false;
  try {
    await migrateToLatest(db);
    try {
      await pool.query('create extension if not exists pg_stat_statements');
      await pool.query('select 1 from pg_stat_statements limit 1');
      statementsAvailable = true;
    } catch {
      // not preloaded on this server: statements per step cannot be counted (commits still can)
    }
  } finally {
    await db.destroy();
  }
  const drop = async (): Promise<void> => {
    const pool = createPool(adminUrl, { max: 1, applicationName: 'sagaflow-bench' });
    try {
      await pool.query(`drop database if exists ${name} with (force)`);
    } finally {
      await pool.end();
    }
  };
  return { name, url, statementsAvailable, drop };
}
