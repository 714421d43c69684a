// @sagaflow/db is not a dependency of the root package, so the root scripts reach its sources by path.
export { createDb, createPool, migrateToLatest } from '../../packages/db/src/index.js';

/** The same server and credentials, another database. */
export function replaceDatabaseNameInUrl(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
