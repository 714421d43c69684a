import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { LocalPostgres } from '@sagaflow/local-postgres';
import { waitForHttp } from '@sagaflow/testkit';
import { printBanner } from './banner.js';
import { killChildService, startChildService, stopChildService, type ChildService } from './child-service.js';
import { createDevPostgres, migrateAndSeed } from './dev-database.js';
import { readDevSettings, REPO_ROOT } from './dev-settings.js';
import { createPrefixedWriter } from './log-lines.js';
import { captureCtrlC } from './terminal-keys.js';

const CHILD_STOP_GRACE_MS = 10_000;
const HEALTH_WAIT_MS = 60_000;
const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** A signal this soon after the first is the same Ctrl-C relayed again (tsx's CLI re-sends it). */
const DUPLICATE_SIGNAL_MS = 2_000;
const LABEL_WIDTH = 8;

/** Prints a line of the dev script itself. */
function say(text: string): void {
  process.stdout.write(`${'dev'.padEnd(LABEL_WIDTH)} │ ${text}\n`);
}

/**
 * `pnpm dev`: Postgres (local and persistent unless DATABASE_URL is set), migrations and demo
 * workflows, then mocks, API and engine as child processes sharing this terminal. Ctrl-C (or SIGINT,
 * SIGTERM, SIGHUP) stops the children (SIGTERM, SIGKILL after 10 s), then Postgres, and exits 0; a child
 * that dies stops the whole stack and exits 1. A second Ctrl-C kills the children at once.
 */
export async function runDev(): Promise<void> {
  const settings = readDevSettings(process.env);
  const children: ChildService[] = [];
  let postgres: LocalPostgres | undefined;
  let stopping: Promise<never> | undefined;
  let firstSignalAt = 0;
  let releaseTerminal = (): void => {};

  const shutdown = (reason: string, exitCode: number): Promise<never> => {
    if (stopping) return stopping;
    stopping = (async () => {
      say(reason);
      await Promise.all(
        children.map(async (service) => {
          const exit = await stopChildService(service, CHILD_STOP_GRACE_MS);
          say(`${service.name} stopped (${describeExit(exit)})`);
        }),
      );
      if (postgres) {
        await postgres.stop().catch((error: unknown) => say(`stopping postgres failed: ${errorText(error)}`));
        say('postgres stopped');
      }
      releaseTerminal();
      process.exit(exitCode);
    })();
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stopping) {
      firstSignalAt = Date.now();
      void shutdown(`received ${signal}, stopping the stack`, 0);
    } else if (Date.now() - firstSignalAt > DUPLICATE_SIGNAL_MS) {
      say(`received ${signal} again: killing the services now`);
      children.forEach(killChildService);
    }
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  releaseTerminal = captureCtrlC(() => {
    if (!stopping) {
      void shutdown('Ctrl-C: stopping the stack', 0);
    } else {
      say('Ctrl-C again: killing the services now');
      children.forEach(killChildService);
    }
  });
  process.once('exit', () => releaseTerminal());

  try {
    let databaseUrl = settings.databaseUrl;
    if (!databaseUrl) {
      say(`starting local postgres on port ${settings.postgresPort} (data in .data/postgres)`);
      postgres = createDevPostgres({
        dataDir: settings.postgresDataDir,
        port: settings.postgresPort,
        write: createPrefixedWriter('postgres', 4, LABEL_WIDTH),
        onUnexpectedExit: (exit) =>
          void shutdown(`postgres exited unexpectedly (${describeExit(exit)}), stopping the stack`, 1),
      });
      await postgres.start();
      databaseUrl = postgres.url;
    }
    if (stopping) return;
    await migrateAndSeed(databaseUrl, say);
    if (stopping) return;
    buildConsole();
    if (stopping) return;

    settings.services.forEach((spec, index) => {
      const service = startChildService({
        name: spec.name,
        entry: spec.entry,
        cwd: join(REPO_ROOT, spec.dir),
        env: { ...settings.childEnv, DATABASE_URL: databaseUrl },
        write: createPrefixedWriter(spec.name, index, LABEL_WIDTH),
      });
      children.push(service);
      void service.exited.then((exit) => {
        if (!stopping) void shutdown(`${spec.name} exited unexpectedly (${describeExit(exit)}), stopping the stack`, 1);
      });
    });

    printBanner({
      databaseUrl,
      postgresNote: postgres ? 'local, data in .data/postgres' : 'from DATABASE_URL',
      services: settings.services,
      missingServices: settings.missingServices,
      adminToken: settings.adminToken,
      adminTokenGenerated: settings.adminTokenGenerated,
    });
    await Promise.all(
      settings.services.map(async (spec) => {
        try {
          await waitForHttp(spec.healthUrl, HEALTH_WAIT_MS);
          if (!stopping) say(`${spec.name} is up (${spec.healthUrl})`);
        } catch {
          if (!stopping) say(`${spec.name} did not answer ${spec.healthUrl} within ${HEALTH_WAIT_MS / 1000} s`);
        }
      }),
    );
  } catch (error) {
    await shutdown(`startup failed: ${errorText(error)}`, 1);
  }
}

/** The web console's files for the API's /ui (a second or two); a failed build leaves /ui answering 503. */
function buildConsole(): void {
  say('building the web console (services/console → /ui)');
  const built = spawnSync('pnpm', ['--silent', '--filter', '@sagaflow/console', 'run', 'build'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (built.status !== 0)
    say(`console build failed, /ui will answer 503: ${(built.stderr || built.stdout || String(built.error)).trim()}`);
}

function describeExit(exit: { code: number | null; signal: string | null }): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${String(exit.code)}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
