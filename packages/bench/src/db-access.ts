export { createDb, createPool, migrateToLatest } from '@sagaflow/db';

/** The same server and credentials, another database. */
export function replaceDatabaseNameInUrl(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
