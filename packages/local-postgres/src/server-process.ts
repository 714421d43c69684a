import { spawn, type ChildProcess } from 'node:child_process';
import { forwardLines, RecentLines } from './output-lines.js';
import type { ServerUser } from './server-user.js';
import { postgresChildEnv } from './env.js';

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  child: ChildProcess;
  exited: Promise<ServerExit>;
  recent: RecentLines;
  ready: Promise<void>;
}

export interface SpawnServerOptions {
  postgres: string;
  dataDir: string;
  port: number;
  user: ServerUser | undefined;
  /** Durability off (fsync, full page writes, synchronous commit): for throwaway clusters. */
  throwaway: boolean;
  /** Own process group: a terminal Ctrl-C then reaches only the parent, which stops the server last. */
  detached: boolean;
  log: (line: string) => void;
}

const READY_LINE = 'database system is ready to accept connections';

/** Builds the postgres command line: TCP on loopback only, no Unix socket, English messages. */
export function buildServerArgs(options: Pick<SpawnServerOptions, 'dataDir' | 'port' | 'throwaway'>): string[] {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    lc_messages: 'C',
    max_connections: '200',
    ...(options.throwaway ? { fsync: 'off', full_page_writes: 'off', synchronous_commit: 'off' } : {}),
  };
  const flags = Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  return ['-D', options.dataDir, '-p', String(options.port), ...flags];
}

/** Starts the postmaster as a child process; `ready` settles when it accepts connections or exits first. */
export function spawnServer(options: SpawnServerOptions): ServerProcess {
  const recent = new RecentLines();
  const child = spawn(options.postgres, buildServerArgs(options), {
    cwd: options.dataDir,
    env: postgresChildEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached,
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  });
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const onLine = (line: string): void => {
    recent.push(line);
    options.log(line);
    if (line.includes(READY_LINE)) markReady();
  };
  forwardLines(child.stdout, onLine);
  forwardLines(child.stderr, onLine);
  const exited = new Promise<ServerExit>((resolve) => {
    child.once('error', (error) => {
      recent.push(String(error));
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const readyOrExit = Promise.race([
    ready,
    exited.then((exit) => {
      throw new Error(
        `postgres exited before accepting connections (code ${String(exit.code)}, signal ${String(exit.signal)}):\n${recent.text()}`,
      );
    }),
  ]);
  return { child, exited, recent, ready: readyOrExit };
}

/** Fast shutdown (SIGINT), then SIGKILL when it has not exited after graceMs. */
export async function stopServer(server: ServerProcess, graceMs: number): Promise<ServerExit> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited;
  server.child.kill('SIGINT');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
  try {
    return await server.exited;
  } finally {
    clearTimeout(timer);
  }
}
