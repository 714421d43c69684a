import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, createPool, migrateToLatest } from '@sagaflow/db';
import { createLocalPostgres, findFreePort, type LocalPostgres } from '@sagaflow/local-postgres';
import type { ScenarioDatabase } from './scenario.js';

/** A scenario database on an embedded Postgres the scenario owns, so it can restart it (never the machine's). */
export interface OwnPostgres extends ScenarioDatabase {
  readonly server: LocalPostgres;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sagaflow-fault-pg-'));
  const server = createLocalPostgres({ dataDir, port: await findFreePort() });
  await server.start();
  const db = createDb(
    createPool(server.url, { max: 4, applicationName: 'fault-tests', connectionTimeoutMillis: 2_000 }),
  );
  await migrateToLatest(db);
  return {
    server,
    url: server.url,
    db,
    close: async () => {
      await db.destroy();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
