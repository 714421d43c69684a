import { createJsonClient, type JsonClient } from '../http-client.js';
import { describeDistribution } from '../percentiles.js';
import type { ScenarioResult } from '../results.js';
import type { EventsReadScenario } from '../scenarios.js';
import { beforeDeadline, type ScenarioContext } from '../scenario-context.js';
import { budgetResult, openBudgetWindow } from './budget-result.js';
import { onFreshStack } from './fresh-stack.js';

const WARMUP_REQUESTS = 500;
const round = (n: number): number => Math.round(n * 10) / 10;

/** `count` GETs of whole histories, `inFlight` at a time, cycling through `runIds`; each answer checked. */
async function readHistories(
  client: JsonClient,
  runIds: readonly string[],
  count: number,
  inFlight: number,
  problems: string[],
): Promise<number[]> {
  const durations: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const runId = runIds[next++ % runIds.length]!;
      const response = await client.get(`/v1/runs/${runId}/events`);
      durations.push(response.receivedAt - response.sentAt);
      const body = response.body as { events?: unknown[]; terminal?: boolean } | null;
      if (response.status !== 200 || body?.events?.length !== 6 || body.terminal !== true)
        problems.push(`GET events of ${runId}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return durations;
}

/**
 * SPEC §18: `GET /v1/runs/{id}/events` ≤ 50 ms p99 with 1 M runs stored. The fresh database is filled with the runs
 * (with their history: six events each), then the API alone (no engine) answers `requests` reads of whole histories of
 * runs sampled at random across the table (so most pages are not cached), `inFlight` at a time, after 500 reads of
 * other runs as a warm-up.
 */
export async function runEventsRead(ctx: ScenarioContext, spec: EventsReadScenario): Promise<ScenarioResult> {
  const storedRuns = ctx.history > 0 ? ctx.history : spec.storedRuns;
  const choice = { engines: 0, withEngines: false, historyRuns: storedRuns };
  return onFreshStack(ctx, spec.name, choice, async (run) => {
    const { label, stack } = run;
    const monitor = run.monitor();
    const wanted = spec.requests + WARMUP_REQUESTS;
    const percent = Math.min(100, Math.ceil(((wanted * 2) / storedRuns) * 100 * 10) / 10);
    // random pages of the table (tablesample), then random order: ids spread over the whole history
    const sampled = await monitor.query<{ id: string }>(
      `select id::text as id from workflow_runs tablesample system (${percent}) where input->>'phase' = 'history' order by random() limit ${wanted}`,
    );
    const ids = sampled.map((r) => r.id);
    if (ids.length === 0) throw new Error(`${label}: no history runs to read`);
    const warmupIds = ids.slice(0, Math.min(WARMUP_REQUESTS, Math.floor(ids.length / 2)));
    const measureIds = ids.slice(warmupIds.length);
    const client = createJsonClient(stack.apiUrl, spec.inFlight);
    const problems: string[] = [];
    const deadline = Date.now() + spec.timeoutMs;
    try {
      await readHistories(client, warmupIds.length ? warmupIds : measureIds, WARMUP_REQUESTS, spec.inFlight, []);
      ctx.say(
        `${label}: ${spec.requests} reads of whole histories, ${spec.inFlight} in flight, ${measureIds.length} distinct runs of ${storedRuns}`,
      );
      const window = await openBudgetWindow(stack);
      const durations = await beforeDeadline(
        readHistories(client, measureIds, spec.requests, spec.inFlight, problems),
        deadline,
        `${label}: reading`,
      );
      const seconds = (performance.now() - window.startedMs) / 1000;
      const responseMs = describeDistribution(durations);
      ctx.say(
        `${label}: p50 ${round(responseMs.p50)} ms, p99 ${round(responseMs.p99)} ms, ${Math.round(spec.requests / seconds)} requests/s`,
      );
      return await budgetResult(ctx, spec, run, window, {
        units: spec.requests,
        runs: measureIds.length,
        problems: problems.slice(0, 10),
        budget: {
          kind: 'events-read',
          storedRuns,
          requests: spec.requests,
          inFlight: spec.inFlight,
          requestsPerSecond: round(spec.requests / seconds),
          responseMs,
        },
      });
    } finally {
      client.close();
    }
  });
}
