import { createDb, createPool } from '../pool.js';
import { migrateToLatest } from '../migrator.js';
import { readDatabaseUrl } from './env.js';

const url = readDatabaseUrl();
const pool = createPool(url, { max: 2, applicationName: 'sagaflow-migrate' });
try {
  const applied = await migrateToLatest(createDb(pool));
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'migrations: nothing to apply');
} catch (error) {
  console.error('migration failed:', error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await pool.end();
}
