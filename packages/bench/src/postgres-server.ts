import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalPostgres, findFreePort } from '@sagaflow/local-postgres';
import { createPool } from './db-access.js';
import { readParentPid } from './proc-status.js';

export interface PostgresServer {
  /** a connection string to the server's `postgres` database, as a superuser */
  adminUrl: string;
  kind: 'DATABASE_URL' | 'embedded';
  /** the server's main process (its backends are its children), for CPU accounting; same host only */
  postmasterPid: number;
  version: string;
  close(): Promise<void>;
}

/**
 * The server the bench databases are created on: DATABASE_URL's, or an embedded Postgres (the binaries of
 * @sagaflow/local-postgres, durable settings: fsync on) with pg_stat_statements preloaded.
 */
export async function openPostgresServer(
  mode: 'url' | 'embedded',
  databaseUrl: string | undefined,
  say: (text: string) => void,
): Promise<PostgresServer> {
  if (mode === 'url') {
    if (!databaseUrl) throw new Error('--postgres url needs DATABASE_URL');
    return {
      adminUrl: databaseUrl,
      kind: 'DATABASE_URL',
      ...(await readServerInfo(databaseUrl)),
      close: async () => {},
    };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'sagaflow-bench-pg-'));
  // persistent: durability stays on (a throwaway cluster runs with fsync off, which would flatter every commit)
  const postgres = createLocalPostgres({ dataDir, port: await findFreePort(), persistent: true, detached: true });
  const close = async (): Promise<void> => {
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await postgres.start();
    await runAdmin(postgres.url, "alter system set shared_preload_libraries = 'pg_stat_statements'");
    await runAdmin(postgres.url, "alter system set pg_stat_statements.track = 'all'");
    await postgres.stop();
    await postgres.start();
    say(`embedded Postgres at ${postgres.url} (data in ${dataDir}), pg_stat_statements preloaded`);
    return { adminUrl: postgres.url, kind: 'embedded', ...(await readServerInfo(postgres.url)), close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

async function runAdmin(url: string, text: string): Promise<void> {
  const pool = createPool(url, { max: 1, applicationName: 'sagaflow-bench' });
  try {
    await pool.query(text);
  } finally {
    await pool.end();
  }
}

async function readServerInfo(url: string): Promise<{ version: string; postmasterPid: number }> {
  const pool = createPool(url, { max: 1, applicationName: 'sagaflow-bench' });
  try {
    const { rows } = await pool.query<{ version: string; pid: number }>(
      "select current_setting('server_version') as version, pg_backend_pid() as pid",
    );
    const row = rows[0];
    if (!row) throw new Error('no answer from Postgres');
    return { version: row.version, postmasterPid: await readParentPid(row.pid) };
  } finally {
    await pool.end();
  }
}
