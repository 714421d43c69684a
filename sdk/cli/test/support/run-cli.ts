import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';

/** The CLI bundled by global-setup.ts from src/bin.ts. */
const BIN = inject('cliBin');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** stdout lines so far */
  lines(): string[];
  /** resolves when the process has exited */
  done: Promise<CliResult>;
}

/** The environment of every CLI run: no colour settings inherited from the test runner. */
function cliEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['FORCE_COLOR', 'NO_COLOR', 'SAGAFLOW_URL', 'SAGAFLOW_API_KEY', 'SAGAFLOW_ADMIN_TOKEN'])
    delete base[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base;
}

/** Starts `sagaflow <args>` as a child process; stdout and stderr are captured (not a terminal). */
export function startCli(args: string[], env: Record<string, string | undefined> = {}, stdin?: string): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: cliEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(stdin ?? '');
  const done = new Promise<CliResult>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return { child, lines: () => stdout.split('\n').filter((line) => line !== ''), done };
}

/** Runs `sagaflow <args>` to the end. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  stdin?: string,
): Promise<CliResult> {
  return startCli(args, env, stdin).done;
}
