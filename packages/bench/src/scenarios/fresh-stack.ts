import { join } from 'node:path';
import { BenchMonitor, withFreshMonitor } from '../bench-monitor.js';
import { createBenchDatabase, type BenchDatabase } from '../bench-database.js';
import { fillHistory, type HistoryFill } from '../fill-history.js';
import { fillSleeping } from '../fill-sleeping.js';
import { createJsonClient } from '../http-client.js';
import { diffPgCounters, monitorQuery, readPgCounters, type PgCounterDelta, type PgCounters } from '../pg-counters.js';
import type { ScenarioResult } from '../results.js';
import type { ScenarioName } from '../scenarios.js';
import { errorText, type ScenarioContext } from '../scenario-context.js';
import { settleStatistics, waitForOtherBackendsGone } from '../scenario-reads.js';
import { startServiceStack, type ServiceStack, type StackOptions } from '../service-stack.js';
import { buildBenchDefinition } from '../workload.js';
import { failedResult } from './failed-result.js';

/** Registers the bench workflow through the admin endpoint (201 on a fresh database). */
export async function registerBenchWorkflow(stack: ServiceStack): Promise<void> {
  const client = createJsonClient(stack.apiUrl, 1);
  try {
    const response = await client.post('/v1/admin/workflows', buildBenchDefinition(stack.downstreamUrl), {
      'x-admin-token': stack.adminToken,
    });
    if (response.status !== 201)
      throw new Error(`registering the bench workflow answered ${response.status}: ${JSON.stringify(response.body)}`);
  } finally {
    client.close();
  }
}

/** What a scenario body gets: its fresh database and services, the workflow registered, the history filled. */
export interface FreshStack {
  label: string;
  logDir: string;
  profileDir: string | undefined;
  /** --alloc-profile: where the services write their sampling heap profiles when they exit */
  allocProfileDir: string | undefined;
  startedAt: string;
  database: BenchDatabase;
  stack: ServiceStack;
  history: HistoryFill | undefined;
  /** the connection the scenario reads Postgres through (closed at the end if the body has not) */
  monitor(): BenchMonitor;
  /** After the warm-up: waits for the statistics to settle and reads the counters the measurement starts from. */
  startCounting(): Promise<void>;
  /** After the measurement: stops the services and returns the Postgres counter deltas, the bench's own statements excluded. */
  stopAndCount(): Promise<PgCounterDelta>;
}

type StackChoice = Pick<
  StackOptions,
  'engines' | 'withEngines' | 'rejectPath' | 'rejectPermille' | 'downstreamDelayMs'
> & {
  /** completed runs to fill in instead of --history (events-read always needs its million) */
  historyRuns?: number;
};

/**
 * Runs one scenario iteration on a fresh database and fresh processes (so peak RSS is this scenario's). A body that
 * throws becomes a failed result; services, monitor and database are cleaned up whatever happens.
 */
export async function onFreshStack(
  ctx: ScenarioContext,
  name: ScenarioName,
  choice: StackChoice,
  body: (run: FreshStack) => Promise<ScenarioResult>,
): Promise<ScenarioResult> {
  const label = `${name}-${ctx.iteration}`;
  const logDir = join(ctx.runDir, 'logs', label);
  const profileDir = ctx.profile ? join(ctx.runDir, 'profiles', label) : undefined;
  const allocProfileDir = ctx.allocProfile ? join(ctx.runDir, 'alloc-profiles', label) : undefined;
  const startedAt = new Date().toISOString();
  const database = await createBenchDatabase(ctx.server.adminUrl, name);
  let stack: ServiceStack | undefined;
  let monitor: BenchMonitor | undefined;
  try {
    const { historyRuns = ctx.history, ...stackChoice } = choice;
    stack = await startServiceStack({
      databaseUrl: database.url,
      postmasterPid: ctx.server.postmasterPid,
      ...stackChoice,
      serviceEnv: ctx.serviceEnv,
      nodeFlags: ctx.nodeFlags,
      logDir,
      ...(profileDir ? { profileDir } : {}),
      ...(allocProfileDir ? { allocProfileDir } : {}),
      ...(ctx.bundles ? { bundles: ctx.bundles } : {}),
    });
    await registerBenchWorkflow(stack);
    const history =
      historyRuns > 0
        ? await fillHistory(database.url, historyRuns, (text) => ctx.say(`${label}: ${text}`))
        : undefined;
    if (ctx.sleeping > 0) await fillSleeping(stack, database.url, ctx.sleeping, (text) => ctx.say(`${label}: ${text}`));
    const running: ServiceStack = stack;
    let before: PgCounters | undefined;
    let ownStart = 0;
    const openMonitor = (): BenchMonitor => (monitor ??= new BenchMonitor(database.url));
    return await body({
      label,
      logDir,
      profileDir,
      allocProfileDir,
      startedAt,
      database,
      stack: running,
      history,
      monitor: openMonitor,
      startCounting: async () => {
        const m = openMonitor();
        await settleStatistics();
        ownStart = m.statements;
        before = await readPgCounters(monitorQuery(m), database.statementsAvailable);
      },
      stopAndCount: async () => {
        if (!before || !monitor) throw new Error('stopAndCount before startCounting');
        await running.stop();
        stack = undefined;
        // backends flush their counters when they exit: wait for the services' connections to be gone
        await waitForOtherBackendsGone(monitor);
        const ownTransactions = monitor.statements - ownStart;
        await monitor.close();
        monitor = undefined;
        const after = await withFreshMonitor(database.url, (m) =>
          readPgCounters(monitorQuery(m), database.statementsAvailable),
        );
        return diffPgCounters(before, after, ownTransactions);
      },
    });
  } catch (error) {
    return failedResult(ctx, name, startedAt, logDir, `${label}: ${errorText(error)}`);
  } finally {
    await stack?.stop();
    await monitor?.close();
    if (!ctx.keepDatabase)
      await database.drop().catch((error: unknown) => ctx.say(`dropping ${database.name} failed: ${errorText(error)}`));
  }
}
