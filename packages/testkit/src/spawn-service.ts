import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface SpawnServiceOptions {
  /** Shown in error messages. */
  name: string;
  /** Absolute path of the .ts (or .js) entry file. */
  entry: string;
  /** Added to (and overriding) this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface ServiceExit {
  code: number | null;
  signal: string | null;
}

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** Every stdout and stderr line so far, in arrival order. */
  lines(): string[];
  /** Resolves with the first line (past or future) matching re; rejects on timeout or exit. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends the signal (default SIGTERM) unless the process has exited; resolves when it has. */
  kill(signal?: NodeJS.Signals): Promise<ServiceExit>;
  /** Settles once, when the process exits; never rejects. */
  readonly exited: Promise<ServiceExit>;
}

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** parent-watch.ts next to this file (.ts when run from src, .js once built). */
const PARENT_WATCH = new URL(`./parent-watch${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

/**
 * Node arguments that run a .ts entry from source: `--conditions=development --import tsx`, plus
 * parent-watch.ts, which stops the child when its parent dies. Spawn with an 'ipc' stdio slot.
 */
export function buildServiceArgs(entry: string): string[] {
  return ['--conditions=development', '--import', TSX_LOADER, '--import', PARENT_WATCH, entry];
}

/**
 * Runs `node --conditions=development --import tsx <entry>` as a child process (a real service,
 * killable with SIGKILL for crash tests). A service whose test process dies gets SIGTERM (parent-watch.ts).
 */
export function spawnService(options: SpawnServiceOptions): ServiceProcess {
  const child = spawn(process.execPath, buildServiceArgs(options.entry), {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${options.name} (${options.entry})`);
  child.channel?.unref(); // our end of the channel must not keep the test process alive either

  const captured: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const onLine = (line: string): void => {
    captured.push(line);
    for (const listener of listeners) listener(line);
  };
  captureLines(child.stdout, onLine);
  captureLines(child.stderr, onLine);

  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });

  const waitForLine = (re: RegExp, timeoutMs = 10_000): Promise<string> => {
    const seen = captured.find((line) => re.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        listeners.delete(listener);
        settle();
      };
      const listener = (line: string): void => {
        if (re.test(line)) finish(() => resolve(line));
      };
      const fail = (why: string): void =>
        finish(() => reject(new Error(`${options.name}: ${why} waiting for a line matching ${re}\n${tail(captured)}`)));
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      listeners.add(listener);
      void exited.then((exit) => fail(`exited (code ${String(exit.code)}, signal ${String(exit.signal)})`));
    });
  };

  return {
    name: options.name,
    pid: child.pid,
    lines: () => [...captured],
    waitForLine,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    exited,
  };
}

function captureLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}

function tail(lines: string[], count = 20): string {
  return lines.slice(-count).join('\n');
}
