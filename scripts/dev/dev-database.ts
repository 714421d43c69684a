// @sagaflow/db and @sagaflow/definitions are not dependencies of the root package, so the root
// scripts reach their sources by path (add them to the root devDependencies to import them by name).
import { createDb, createPool, migrateToLatest, registerDefinition } from '../../packages/db/src/index.js';
import { loadDemoDefinitions } from '../../packages/definitions/src/index.js';
import { createLocalPostgres, type LocalPostgres, type ServerExit } from '@sagaflow/local-postgres';
import type { LineWriter } from './log-lines.js';

/** The persistent dev cluster (data kept between runs), in its own process group so it is stopped last. */
export function createDevPostgres(options: {
  dataDir: string;
  port: number;
  write: LineWriter;
  onUnexpectedExit: (exit: ServerExit) => void;
}): LocalPostgres {
  return createLocalPostgres({
    dataDir: options.dataDir,
    port: options.port,
    persistent: true,
    detached: true,
    logger: options.write,
    onUnexpectedExit: options.onUnexpectedExit,
  });
}

/** Applies pending migrations, then registers the demo workflows (both idempotent). */
export async function migrateAndSeed(databaseUrl: string, say: (text: string) => void): Promise<void> {
  const pool = createPool(databaseUrl, { max: 2, applicationName: 'sagaflow-dev' });
  const db = createDb(pool);
  try {
    const applied = await migrateToLatest(db);
    say(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'migrations: up to date');
    for (const definition of loadDemoDefinitions()) {
      const { created } = await registerDefinition(db, definition);
      say(`workflow ${definition.name}@${definition.version}: ${created ? 'registered' : 'already registered'}`);
    }
  } finally {
    await db.destroy();
  }
}
