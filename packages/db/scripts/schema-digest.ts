import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { hashMigrationFiles, readMigrationFiles } from '../src/testing/migrations-hash.js';

/** src/schema.generated.ts, whose first line names the digest of the migrations it was generated from. */
export const GENERATED_SCHEMA = fileURLToPath(new URL('../src/schema.generated.ts', import.meta.url));

const PREFIX = '// generated from migrations/sql with digest ';

export async function digestLine(): Promise<string> {
  return `${PREFIX}${hashMigrationFiles(await readMigrationFiles())} (pnpm db:codegen)`;
}

/** The digest line the committed file carries, or undefined when it has none. */
export async function recordedDigestLine(): Promise<string | undefined> {
  const first = (await readFile(GENERATED_SCHEMA, 'utf8')).split('\n', 1)[0];
  return first?.startsWith(PREFIX) ? first : undefined;
}
