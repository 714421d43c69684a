import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFile, writeFile } from 'node:fs/promises';
import { createTestDatabase } from '../src/testing/index.js';
import { GENERATED_SCHEMA, digestLine } from './schema-digest.js';

/**
 * Writes src/schema.generated.ts from a freshly migrated database: a throwaway database cloned from the migrated
 * template on DATABASE_URL's server, kysely-codegen over it (`pnpm run codegen:introspect`), Prettier, a first line
 * with the migrations' digest, drop.
 * scripts/check-generated.sh runs it and fails when the committed file differs.
 */
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const prettier = fileURLToPath(new URL('../../../node_modules/.bin/prettier', import.meta.url));

const database = await createTestDatabase();
try {
  execFileSync('pnpm', ['run', '--silent', 'codegen:introspect'], {
    cwd: packageDir,
    stdio: 'inherit',
    env: { ...process.env, CODEGEN_DATABASE_URL: database.url },
  });
  execFileSync(prettier, ['--log-level', 'warn', '--write', 'src/schema.generated.ts'], {
    cwd: packageDir,
    stdio: 'inherit',
  });
  // the first line records which migrations it came from (checked by check-schema-digest.ts in pnpm lint)
  await writeFile(GENERATED_SCHEMA, `${await digestLine()}\n${await readFile(GENERATED_SCHEMA, 'utf8')}`);
} finally {
  await database.drop();
}
