import { loadDemoDefinitions } from '@sagaflow/definitions';
import { createDb, createPool } from '../pool.js';
import { registerDefinition } from '../queries/definitions.js';
import { readDatabaseUrl } from './env.js';

const url = readDatabaseUrl();
const pool = createPool(url, { max: 2, applicationName: 'sagaflow-seed' });
try {
  const db = createDb(pool);
  for (const definition of loadDemoDefinitions()) {
    const { created } = await registerDefinition(db, definition);
    console.log(`${definition.name}@${definition.version}: ${created ? 'registered' : 'already registered'}`);
  }
} catch (error) {
  console.error('seed failed:', error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await pool.end();
}
