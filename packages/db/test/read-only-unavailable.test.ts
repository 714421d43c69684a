import { afterEach, beforeEach, expect, it } from 'vitest';
import { createDb, createPool, isDatabaseUnavailable, registerDefinition, startRun, type Db } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { definitionOf } from './support/definitions.js';

/**
 * During a failover, HAProxy can hand a new connection to the old primary after Patroni restarted it as a replica,
 * for up to its health check's fall time. A write there fails with 25006; the API must answer 503 (retry) and the
 * engine retry its commit, as for any other "Postgres cannot serve right now", not 500.
 */

let database: TestDatabase;
let readOnly: Db;
beforeEach(async () => {
  database = await createTestDatabase();
  await registerDefinition(
    database.db,
    definitionOf({
      name: 'ro',
      version: '1.0.0',
      steps: [{ id: 'a', request: { method: 'POST', url: 'http://127.0.0.1:9/a' } }],
    }),
  );
  const pool = createPool(database.url, { max: 1 });
  // what a replica is: every transaction read-only
  pool.on('connect', (client) => void client.query('set default_transaction_read_only = on'));
  readOnly = createDb(pool);
});
afterEach(async () => {
  await readOnly?.destroy();
  await database?.drop();
});

it('a write refused by a read-only server is "database unavailable" (25006), and nothing was written', async () => {
  const error: unknown = await startRun(readOnly, { workflowName: 'ro', input: {}, correlationId: 'c-ro' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: '25006' });
  expect(isDatabaseUnavailable(error)).toBe(true);
  const runs = await database.db.selectFrom('workflow_runs').select('id').execute();
  expect(runs).toEqual([]);
});
