// Usage: tsx scripts/with-postgres.ts <command> [args...]
// With DATABASE_URL unset: starts a throwaway local Postgres on a free port, runs the command with
// DATABASE_URL pointing at it, stops Postgres (also on SIGINT/SIGTERM) and exits with the command's
// exit code. With DATABASE_URL set: just runs the command. SIGTERM/SIGHUP are forwarded to the
// command; SIGINT is not (a terminal Ctrl-C already reaches the command's whole process group).
import './dev/development-conditions.js';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

const { createLocalPostgres, findFreePort } = await import('@sagaflow/local-postgres');

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: tsx scripts/with-postgres.ts <command> [args...]');
  process.exit(2);
}

const HANDLED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let interrupted: NodeJS.Signals | undefined;
let forward: (signal: NodeJS.Signals) => void = (signal) => (interrupted = signal);
for (const signal of HANDLED_SIGNALS) process.on(signal, () => forward(signal));

const postgres = process.env.DATABASE_URL
  ? undefined
  : createLocalPostgres({
      dataDir: await mkdtemp(join(tmpdir(), 'sagaflow-pg-')),
      port: await findFreePort(),
      persistent: false,
      detached: true, // a Ctrl-C reaches the command, not Postgres: it is stopped after the command exits
    });

let exitCode = 1;
try {
  if (postgres) {
    await postgres.start();
    process.env.DATABASE_URL = postgres.url;
    console.error(`with-postgres: local Postgres at ${postgres.url}`);
  }
  exitCode = interrupted ? 128 + constants.signals[interrupted] : await runCommand(command, args);
} catch (error) {
  console.error(`with-postgres: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await postgres?.stop();
}
process.exit(exitCode);

function runCommand(file: string, argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(file, argv, { stdio: 'inherit', env: process.env });
    forward = (signal) => {
      if (signal !== 'SIGINT') child.kill(signal);
    };
    child.once('error', (error) => {
      console.error(`with-postgres: cannot run ${file}: ${error.message}`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}
