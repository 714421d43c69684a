import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { buildServiceArgs } from '@sagaflow/testkit';
import type { LineWriter } from './log-lines.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildService {
  name: string;
  child: ChildProcess;
  exited: Promise<ChildExit>;
}

/**
 * Runs `node --conditions=development --import tsx <entry>`, output through write. The child stays in
 * this script's process group (a SIGINT sent to the whole group reaches it directly; a Ctrl-C typed in the
 * terminal is read by this script, which stops the children), and it holds an IPC channel to this
 * script, so it gets SIGTERM if this script dies (even by SIGKILL). Postgres is the one started in its
 * own group, so it goes last.
 */
export function startChildService(options: {
  name: string;
  entry: string;
  cwd: string;
  env: Record<string, string>;
  write: LineWriter;
}): ChildService {
  const child = spawn(process.execPath, buildServiceArgs(options.entry), {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', options.write);
  }
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('error', (error) => {
      options.write(`failed to start: ${error.message}`);
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { name: options.name, child, exited };
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the child has exited. */
export async function stopChildService(service: ChildService, graceMs: number): Promise<ChildExit> {
  signalChild(service.child, 'SIGTERM');
  const timer = setTimeout(() => signalChild(service.child, 'SIGKILL'), graceMs);
  try {
    return await service.exited;
  } finally {
    clearTimeout(timer);
  }
}

export function killChildService(service: ChildService): void {
  signalChild(service.child, 'SIGKILL');
}

function signalChild(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}
