import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bundleServices, distServices } from './bundle-services.js';
import { parseBenchOptions } from './options.js';
import { sampleMachineBusy } from './proc-status.js';
import { openPostgresServer, type PostgresServer } from './postgres-server.js';
import type { ScenarioResult } from './results.js';
import { errorText, type ScenarioContext } from './scenario-context.js';
import { buildScenario } from './scenarios.js';
import { stopAllServiceStacks } from './service-stack.js';
import { runBulkRedrive } from './scenarios/run-bulk-redrive.js';
import { runEventsRead } from './scenarios/run-events-read.js';
import { runHistoryCost, runSleepingBurst } from './scenarios/run-paired-bursts.js';
import { runSearch } from './scenarios/run-search.js';
import { runSagaScenario } from './scenarios/run-saga-scenario.js';
import { runSseDelay } from './scenarios/run-sse-delay.js';
import { runSseMemory } from './scenarios/run-sse-memory.js';
import { runStartRate } from './scenarios/run-start-rate.js';
import type { Scenario } from './scenarios.js';
import { describeBudget } from './budget-table.js';
import { describeEnvironment, writeReport } from './write-report.js';

function say(text: string): void {
  process.stderr.write(`bench │ ${text}\n`);
}

const QUIET_SHARE = 0.25;

/** Waits (up to maxSeconds) until the machine's cores are less than 25 % busy over a second; says so either way. */
async function waitForQuietMachine(maxSeconds: number): Promise<void> {
  if (maxSeconds <= 0) return;
  const deadline = Date.now() + maxSeconds * 1000;
  let busy = await sampleMachineBusy(1000);
  if (busy < QUIET_SHARE) return;
  say(
    `the machine is ${Math.round(busy * 100)} % busy with other work; waiting up to ${maxSeconds} s for it to calm down`,
  );
  while (busy >= QUIET_SHARE && Date.now() < deadline) busy = await sampleMachineBusy(1000);
  say(
    busy < QUIET_SHARE
      ? 'quiet now'
      : `still ${Math.round(busy * 100)} % busy: measuring anyway (see otherLoad in results.json)`,
  );
}

function runScenario(ctx: ScenarioContext, scenario: Scenario): Promise<ScenarioResult> {
  switch (scenario.kind) {
    case 'saga':
      return runSagaScenario(ctx, scenario);
    case 'start-rate':
      return runStartRate(ctx, scenario);
    case 'events-read':
      return runEventsRead(ctx, scenario);
    case 'sse-delay':
      return runSseDelay(ctx, scenario);
    case 'sse-memory':
      return runSseMemory(ctx, scenario);
    case 'history-cost':
      return runHistoryCost(ctx, scenario);
    case 'search':
      return runSearch(ctx, scenario);
    case 'sleeping-burst':
      return runSleepingBurst(ctx, scenario);
    case 'bulk-redrive':
      return runBulkRedrive(ctx, scenario);
  }
}

/**
 * `pnpm bench`: every selected scenario, `repeat` times, each on a fresh database with fresh API/engine/downstream
 * processes; then results.json and summary.md under bench-results/<stamp>/. Returns the exit code: 0 when every
 * scenario finished with every run in the state the workload implies, 1 otherwise, 2 for bad options.
 */
export async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseBenchOptions(argv, process.env.DATABASE_URL || undefined);
  } catch (error) {
    process.stderr.write(`${errorText(error)}\n`);
    return 2;
  }
  const startedAt = new Date().toISOString();
  const runDir = resolve(options.outDir, startedAt.replace(/[:.]/g, '-'));
  await mkdir(runDir, { recursive: true });

  let server: PostgresServer | undefined;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = true;
    say(`${signal}: stopping`);
    void stopAllServiceStacks()
      .then(() => server?.close())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const results: ScenarioResult[] = [];
  try {
    server = await openPostgresServer(options.postgres, process.env.DATABASE_URL || undefined, say);
    say(`results in ${runDir}; Postgres ${server.version} (${server.kind})`);
    const bundles = options.dist
      ? await distServices()
      : options.compiled
        ? await bundleServices(join(runDir, 'bundles'))
        : undefined;
    for (let iteration = 1; iteration <= options.repeat; iteration++) {
      for (const name of options.scenarios) {
        if (interrupted) break;
        const scenario = buildScenario(name, options.runs, options.startSeconds);
        const ctx: ScenarioContext = {
          server,
          engines: options.engines,
          warmup: options.warmup,
          serviceEnv: options.serviceEnv,
          nodeFlags: options.nodeFlags,
          iteration,
          runDir,
          profile: options.profile,
          allocProfile: options.allocProfile,
          keepDatabase: options.keepDatabase,
          history: options.history,
          sleeping: options.sleeping,
          bundles,
          say,
        };
        await waitForQuietMachine(options.idleWaitSeconds);
        say(`${name} #${iteration}: starting`);
        const result = await runScenario(ctx, scenario);
        results.push(result);
        say(
          !result.ok
            ? `${name} #${iteration}: FAILED: ${result.problems.join('; ')}`
            : result.budget
              ? `${name} #${iteration}: ${describeBudget(result.budget)}`
              : `${name} #${iteration}: ${result.runsPerSecond} runs/s, ${result.unitsPerSecond} ${result.unit}s/s, ${result.postgres.commitsPerUnit} commits/${result.unit}`,
        );
      }
    }
    const meta = {
      ...describeEnvironment(options, `${server.kind} (Postgres ${server.version})`, startedAt),
      finishedAt: new Date().toISOString(),
    };
    process.stdout.write(`${await writeReport(runDir, meta, results)}\n`);
    say(`wrote ${join(runDir, 'results.json')} and summary.md`);
  } catch (error) {
    say(`failed: ${errorText(error)}`);
    return 1;
  } finally {
    await server?.close();
  }
  return results.every((r) => r.ok) ? 0 : 1;
}
