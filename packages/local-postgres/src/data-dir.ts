import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, chown, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forwardLines, RecentLines } from './output-lines.js';
import type { ServerUser } from './server-user.js';
import { postgresChildEnv } from './env.js';

export const SUPERUSER = 'postgres';
export const SUPERUSER_PASSWORD = 'postgres';

/** Creates the folder (and its parents), owned by the server user, mode 0700 as Postgres demands. */
export async function prepareDataDir(dataDir: string, user: ServerUser | undefined): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  if (user) await chown(dataDir, user.uid, user.gid);
  await chmod(dataDir, 0o700);
}

/** A cluster lives here when initdb wrote PG_VERSION. */
export async function isDataDirInitialised(dataDir: string): Promise<boolean> {
  return access(join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
}

export interface InitialiseOptions {
  initdb: string;
  dataDir: string;
  user: ServerUser | undefined;
  /** Skip initdb's final fsync (throwaway clusters). */
  noSync: boolean;
  log: (line: string) => void;
}

/**
 * Runs initdb: superuser `postgres` / password `postgres` (SCRAM over TCP), UTF-8, C collation
 * (locale-independent, so it works on any machine). Refuses a non-empty folder without PG_VERSION —
 * an interrupted initdb — rather than guessing whether it is safe to delete.
 */
export async function initialiseDataDir(options: InitialiseOptions): Promise<void> {
  const { initdb, dataDir, user, noSync, log } = options;
  const leftovers = await readdir(dataDir);
  if (leftovers.length > 0) {
    throw new Error(
      `${dataDir} is not empty but holds no Postgres cluster (no PG_VERSION; an interrupted initdb?). Delete it and start again.`,
    );
  }
  const passwordFile = join(tmpdir(), `sagaflow-pg-password-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${SUPERUSER_PASSWORD}\n`, { mode: 0o600 });
  try {
    if (user) await chown(passwordFile, user.uid, user.gid);
    const args = [
      `--pgdata=${dataDir}`,
      `--username=${SUPERUSER}`,
      `--pwfile=${passwordFile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=trust',
      '--encoding=UTF8',
      '--no-locale',
      ...(noSync ? ['--no-sync'] : []),
    ];
    await runToCompletion(initdb, args, { cwd: dataDir, user, log });
  } finally {
    await rm(passwordFile, { force: true });
  }
}

async function runToCompletion(
  command: string,
  args: string[],
  options: { cwd: string; user: ServerUser | undefined; log: (line: string) => void },
): Promise<void> {
  const recent = new RecentLines();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: postgresChildEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  });
  const onLine = (line: string): void => {
    recent.push(line);
    options.log(line);
  };
  forwardLines(child.stdout, onLine);
  forwardLines(child.stderr, onLine);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  });
  if (code !== 0) {
    throw new Error(`initdb failed (code ${code ?? 'null'}, signal ${signal ?? 'null'}):\n${recent.text()}`);
  }
}
