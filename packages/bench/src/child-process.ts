import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { buildServiceArgs } from '@sagaflow/testkit';
import { readCpuSeconds, readProcessMemory, resetPeakRss, type ProcessMemory } from './proc-status.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BenchChild {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<ChildExit>;
  memory(): Promise<ProcessMemory>;
  /** restarts the peak RSS (VmHWM) from the current RSS: memory() then gives the peak since this call */
  resetPeakMemory(): Promise<void>;
  cpuSeconds(): Promise<number>;
  /** SIGTERM (a graceful stop, so a --cpu-prof profile is written), SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<ChildExit>;
}

/** testkit's parent-watch for a plain-JavaScript child (no tsx to load the .ts one): SIGTERM when the parent goes away. */
const PLAIN_PARENT_WATCH = `data:text/javascript,${encodeURIComponent(
  "if (process.channel) { process.channel.unref(); process.once('disconnect', () => { setTimeout(() => process.kill(process.pid, 'SIGKILL'), 10000).unref(); process.kill(process.pid, 'SIGTERM'); }); }",
)}`;

/**
 * Runs `node [nodeFlags] --conditions=development --import tsx <entry>` (a .ts entry) or `node [nodeFlags] <entry>`
 * (a bundled .mjs, --compiled) with stdout and stderr appended to logFile (not piped through this process, which
 * would spend the bench's CPU on the services' logs). The child gets SIGTERM when this process dies (parent-watch).
 */
export function startBenchChild(options: {
  name: string;
  entry: string;
  env: Record<string, string>;
  logFile: string;
  nodeFlags?: string[];
}): BenchChild {
  const fd = openSync(options.logFile, 'a');
  const entryArgs = options.entry.endsWith('.ts')
    ? buildServiceArgs(options.entry)
    : ['--import', PLAIN_PARENT_WATCH, options.entry];
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...entryArgs], {
    env: options.env,
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${options.name}`);
  child.channel?.unref();
  const pid = child.pid;
  const exited = new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    name: options.name,
    pid,
    exited,
    memory: () => readProcessMemory(pid),
    resetPeakMemory: () => resetPeakRss(pid),
    cpuSeconds: () => readCpuSeconds(pid),
    async stop(graceMs = 15_000) {
      if (alive()) child.kill('SIGTERM');
      const timer = setTimeout(() => alive() && child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
