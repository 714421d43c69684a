import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive, readCommandLine, waitForProcessExit } from './process-status.js';

export type StaleLockAction = 'none' | 'remove-lock' | 'stop-server' | 'refuse';

export interface LockObservation {
  /** First line of postmaster.pid; undefined when there is no file, NaN when it is garbage. */
  pid: number | undefined;
  alive: boolean;
  /** Command line of that pid; undefined when it cannot be read (no procfs). */
  commandLine: string | undefined;
  dataDir: string;
}

/**
 * What to do with a postmaster.pid found before starting:
 * - no file → nothing;
 * - garbage, or a dead pid, or a live pid that is some other program (pid reused) → remove the file;
 * - a live postgres on this very data dir (left running by a crashed previous run) → stop it, so the
 *   server we start is our child, with our port and settings, and is stopped by our stop();
 * - a live process we cannot identify (no procfs) → refuse rather than kill or double-start.
 */
export function decideStaleLockAction(lock: LockObservation): StaleLockAction {
  if (lock.pid === undefined) return 'none';
  if (!Number.isInteger(lock.pid) || lock.pid <= 0 || !lock.alive) return 'remove-lock';
  if (lock.commandLine === undefined) return 'refuse';
  const isPostgresHere = lock.commandLine.includes('postgres') && lock.commandLine.includes(lock.dataDir);
  return isPostgresHere ? 'stop-server' : 'remove-lock';
}

const FAST_SHUTDOWN_MS = 30_000;
const KILL_WAIT_MS = 5_000;

/** Clears the way for a new server on dataDir (see decideStaleLockAction). */
export async function recoverStaleLock(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  const text = await readFile(pidFile, 'utf8').catch(() => undefined);
  const pid = text === undefined ? undefined : Number.parseInt(text.split('\n')[0] ?? '', 10);
  const alive = pid !== undefined && Number.isInteger(pid) && pid > 0 && (await isProcessAlive(pid));
  const commandLine = alive ? await readCommandLine(pid) : undefined;
  const action = decideStaleLockAction({ pid, alive, commandLine, dataDir });
  switch (action) {
    case 'none':
      return;
    case 'remove-lock':
      log(`local-postgres: removing stale ${pidFile} (pid ${String(pid)} is not a running postgres here)`);
      await rm(pidFile, { force: true });
      return;
    case 'stop-server':
      log(`local-postgres: stopping postgres pid ${String(pid)} left running on ${dataDir} by an earlier run`);
      await stopOrphanedServer(pid as number, pidFile);
      return;
    case 'refuse':
      throw new Error(
        `${dataDir} is locked by live pid ${String(pid)} that cannot be identified; stop it (or delete ${pidFile} if it is not postgres)`,
      );
  }
}

async function stopOrphanedServer(pid: number, pidFile: string): Promise<void> {
  process.kill(pid, 'SIGINT'); // fast shutdown: ends sessions, checkpoints, removes postmaster.pid
  if (!(await waitForProcessExit(pid, FAST_SHUTDOWN_MS))) {
    process.kill(pid, 'SIGKILL');
    if (!(await waitForProcessExit(pid, KILL_WAIT_MS))) {
      throw new Error(`postgres pid ${pid} did not exit after SIGKILL`);
    }
  }
  await rm(pidFile, { force: true });
}
