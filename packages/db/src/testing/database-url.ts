/** The same server and credentials, another database. */
export function replaceDatabaseName(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** DATABASE_URL, the admin connection test databases are created through. */
export function readAdminUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      'DATABASE_URL is not set: run tests through vitest (its globalSetup starts a local Postgres) or point DATABASE_URL at a server',
    );
  }
  return url;
}
