import { setTimeout as delay } from 'node:timers/promises';
import { createClient } from '@sagaflow/client';
import { waitFor } from '@sagaflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figuresFromReport, printFigures } from '../src/figures/figures.js';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { startOwnPostgres, type OwnPostgres } from '../src/own-postgres.js';
import type { ApiProcess } from '../src/processes/api-process.js';
import { readLogRecords } from '../src/processes/log-records.js';
import { createRandom, readSeed } from '../src/random.js';
import { monitorHttp } from '../src/runs/http-monitor.js';
import { startPaced } from '../src/runs/paced-starts.js';
import { startWithRetry } from '../src/runs/start-with-retry.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const RUNS = 300;

function tally(values: ReadonlyArray<number | string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}
const RESTART_AT_MS = [3_000, 9_000];
const OUTAGE_MS = 2_000;
const CONCURRENCY = 32;

interface Outage {
  down: number;
  up: number;
  /** first /ready 200 after Postgres was back */
  readyAgain: number;
}

/**
 * The API and two engines run against an embedded Postgres this test owns; it is stopped (fast shutdown) and
 * started again twice while clients start 300 runs through the API with idempotency keys, retrying what failed.
 * Meanwhile the API's and an engine's /ready must say 503, a start must never be a 500, and every run a client got a
 * 202 for must finish.
 */
describe('Postgres restarted twice during 300 runs', () => {
  const random = createRandom(readSeed());
  let postgres: OwnPostgres;
  let scenario: Scenario;
  let api: ApiProcess;
  let engineUrl: string;

  beforeAll(async () => {
    postgres = await startOwnPostgres();
    scenario = await createScenario(postgres);
    await scenario.register(
      buildWorkflow('pg-restart', scenario.downstream.url, [
        { id: 'book', compensated: true },
        { id: 'pay' },
        { id: 'mail' },
      ]),
    );
    scenario.downstream.setScript(() => ({ type: 'reply', status: 200, delayMs: random.int(20, 200) }));
    const env = { ENGINE_LEASE_MS: '2000', ENGINE_CONCURRENCY: String(CONCURRENCY) };
    const [engine] = await Promise.all(['pg-a', 'pg-b'].map((id) => scenario.startEngine(id, env)));
    engineUrl = engine!.baseUrl;
    api = await scenario.startApi();
  });
  afterAll(async () => {
    await scenario?.close();
  });

  it(
    'answers 503 (never 500) while Postgres is down and loses no run a client was promised',
    { timeout: 150_000 },
    async () => {
      const client = createClient({ baseUrl: api.url });
      const ready = monitorHttp(() => `${api.url}/ready`);
      const engineReady = monitorHttp(() => `${engineUrl}/ready`);
      const outages: Outage[] = [];
      const started = Date.now();

      const restarting = (async () => {
        for (const offset of RESTART_AT_MS) {
          await delay(Math.max(0, started + offset - Date.now()));
          const down = Date.now();
          await postgres.server.stop();
          await delay(OUTAGE_MS);
          await postgres.server.start();
          const up = Date.now();
          const back = await waitFor(() => ready.samples().find((s) => s.at >= up && s.status === 200), {
            timeoutMs: 30_000,
            description: '/ready 200 after the restart',
          });
          outages.push({ down, up, readyAgain: back.at });
        }
      })();
      const outcomes = await startPaced(RUNS, 20, (i) =>
        startWithRetry({
          client: () => client,
          workflow: 'pg-restart',
          input: { n: i },
          idempotencyKey: `pg-${i}`,
          timeoutMs: 60_000,
        }),
      );
      await restarting;
      const drain = await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 60_000, expectedRuns: RUNS });
      await ready.stop();
      await engineReady.stop();

      const promised = outcomes.flatMap((o) => (o.runId ? [o.runId] : []));
      const report = await scenario.check({
        maxRedeliveries: 2 * CONCURRENCY * RESTART_AT_MS.length,
        promisedRunIds: promised,
      });
      const failures = outcomes.flatMap((o) => o.failures);
      const count = (what: number | 'connection'): number => failures.filter((f) => f === what).length;
      const rows = await scenario.db.selectFrom('workflow_runs').select(['id', 'idempotency_key']).execute();
      printFigures({
        ...figuresFromReport('Postgres restarted twice (API + 2 engines)', report, drain.elapsedMs),
        recoverySeconds: Math.max(...outages.map((o) => o.readyAgain - o.up)) / 1000,
        extra: {
          'starts answered 503': count(503),
          'starts answered 500': count(500),
          'other start failures': failures.length - count(503) - count(500),
          'outage s': outages.map((o) => ((o.up - o.down) / 1000).toFixed(1)).join('+'),
          statuses: JSON.stringify(report.byStatus),
          seed: random.seed,
        },
      });

      expect.soft(report.violations, formatViolations(report)).toEqual([]);
      // every client got its 202 in the end, and each key made exactly one run: the one it was told about
      expect.soft(outcomes.filter((o) => !o.runId).map((o) => `${o.key}: ${o.failures.join(',')}`)).toEqual([]);
      expect.soft(rows).toHaveLength(RUNS);
      const runIdByKey = new Map(rows.map((r) => [r.idempotency_key, r.id]));
      expect.soft(outcomes.filter((o) => o.runId && runIdByKey.get(o.key) !== o.runId).map((o) => o.key)).toEqual([]);
      expect.soft(report.byStatus).toEqual({ COMPLETED: RUNS });
      // while Postgres was down, /ready said 503; a start was refused with 503 or a connection failure, never 500
      for (const outage of outages) {
        const seen = ready.statusesBetween(outage.down, outage.up);
        expect
          .soft(seen.has(503), `/ready during the outage at ${outage.down - started} ms saw ${[...seen].join(',')}`)
          .toBe(true);
        expect.soft(seen.has(500)).toBe(false);
        // the engine says so too, and is ready again by itself once Postgres is back (no restart of the engine)
        const engineSeen = engineReady.statusesBetween(outage.down, outage.up);
        expect.soft(engineSeen.has(503), `engine /ready during the outage saw ${[...engineSeen].join(',')}`).toBe(true);
        expect.soft(engineReady.samples().some((s) => s.at >= outage.up && s.status === 200)).toBe(true);
      }
      const refused = failures.filter((f) => f !== 503 && f !== 'connection');
      const logged = readLogRecords(api.process).filter((r) => r['msg'] === 'request failed');
      const cause = JSON.stringify(
        [...new Set(logged.map((r) => (r['err'] as { message?: string } | undefined)?.message))].slice(0, 4),
      );
      expect
        .soft(
          refused.length,
          `start answers other than 503 while Postgres was down: ${JSON.stringify(tally(refused))}; the API logged: ${cause}`,
        )
        .toBe(0);
    },
  );
});
