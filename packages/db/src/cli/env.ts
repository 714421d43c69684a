/** The database CLIs' one setting: DATABASE_URL, or exit 1 saying it is missing. */
export function readDatabaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) {
    console.error('DATABASE_URL is not set');
    process.exit(1);
  }
  return url;
}
