import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalPostgres, findFreePort } from '@sagaflow/local-postgres';

/**
 * vitest globalSetup: with DATABASE_URL unset, starts a throwaway local Postgres on a free port and
 * sets DATABASE_URL, which the test workers (started afterwards) inherit. Returns the teardown.
 */
export async function testGlobalSetup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.DATABASE_URL) return undefined;
  const server = createLocalPostgres({
    dataDir: await mkdtemp(join(tmpdir(), 'sagaflow-test-pg-')),
    port: await findFreePort(),
    persistent: false,
  });
  await server.start();
  process.env.DATABASE_URL = server.url;
  return async () => {
    delete process.env.DATABASE_URL;
    await server.stop();
  };
}
