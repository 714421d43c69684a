import { setTimeout as delay } from 'node:timers/promises';
import { createClient } from '@sagaflow/client';
import { createDb, createPool, migrateToLatest, type Db } from '@sagaflow/db';
import {
  buildWorkflow,
  countLogMessages,
  createScenario,
  figuresFromReport,
  formatViolations,
  readLogRecords,
  monitorHttp,
  printFigures,
  startPaced,
  startWithRetry,
  waitUntilAllTerminal,
  type HttpMonitor,
  type Scenario,
} from '@sagaflow/fault-tests';
import type { EngineProcess } from '@sagaflow/testkit';
import { waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHaCluster, type HaCluster, type PatroniNode } from '../src/cluster.js';
import { ensureHaBinaries } from '../src/install.js';
import { startWriteProbe, type WriteProbe } from '../src/write-probe.js';

const RUNS = 500;
/** starts per second: the burst lasts ~42 s, long enough to hold both rounds */
const RATE = 12;
const CONCURRENCY = 16;
const LEASE_MS = 3_000;
/** round 1 this long after the first start; round 2 once the cluster is whole again, and not before ROUND_2_AT_MS */
const ROUND_1_AT_MS = 6_000;
const ROUND_2_AT_MS = 18_000;

interface Round {
  name: string;
  killed: string;
  promoted: string;
  at: number;
  /** first committed write through HAProxy after the kill */
  writesBack: number;
  /** first /ready 200 of the API after the kill */
  readyBack: number;
}

/**
 * SagaFlow on a 3-node Patroni cluster (synchronous_mode) behind HAProxy: the API and two engines reach Postgres only
 * through HAProxy's read-write port. Clients start 500 runs; mid-burst the primary's Postgres is kill -9'd (round 1,
 * Patroni on that node stays up and rejoins it as a replica), then the new primary's Postgres and its Patroni both
 * (round 2: the leader key has to expire). Patroni promotes the synchronous standby each time.
 */
describe('Patroni failover under load (API + 2 engines through HAProxy)', () => {
  let cluster: HaCluster | undefined;
  let db: Db;
  let scenario: Scenario | undefined;
  let engines: EngineProcess[] = [];
  let apiUrl: string;
  let apiLog: () => Array<Record<string, unknown>>;

  const teardown = async (): Promise<void> => {
    await scenario?.close().catch(() => undefined);
    scenario = undefined;
    await cluster?.close();
    cluster = undefined;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    void teardown().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };

  beforeAll(async () => {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    ensureHaBinaries();
    const started = Date.now();
    cluster = await startHaCluster();
    db = createDb(createPool(cluster.url, { max: 4, applicationName: 'ha-tests', connectionTimeoutMillis: 2_000 }));
    await migrateToLatest(db);
    scenario = await createScenario({ url: cluster.url, db, close: () => db.destroy() }, { startupTimeoutMs: 120_000 });
    await scenario.register(
      buildWorkflow('ha-failover', scenario.downstream.url, [
        { id: 'reserve', compensated: true },
        { id: 'charge' },
        { id: 'notify' },
      ]),
    );
    scenario.downstream.setScript(() => ({ type: 'reply', status: 200, delayMs: 20 + Math.floor(Math.random() * 80) }));
    const env = {
      ENGINE_LEASE_MS: String(LEASE_MS),
      ENGINE_CONCURRENCY: String(CONCURRENCY),
      ENGINE_DB_POOL_SIZE: '6',
    };
    engines = await Promise.all(['ha-a', 'ha-b'].map((id) => scenario!.startEngine(id, env)));
    const api = await scenario.startApi();
    apiUrl = api.url;
    apiLog = () => readLogRecords(api.process);
    process.stdout.write(`[ha] cluster, API and engines up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });
  afterAll(async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardown();
  });

  it('loses no run, applies no effect twice, reports the outage on /ready and recovers by itself', async () => {
    const ha = cluster!;
    const world = scenario!;
    const client = createClient({ baseUrl: apiUrl });
    // a commit is acknowledged once the synchronous standby has flushed it: what keeps an acknowledged start
    const { rows: settings } = await sql<{ commit: string; standbys: string }>`
      select current_setting('synchronous_commit') as commit, current_setting('synchronous_standby_names') as standbys
    `.execute(db);
    expect(settings[0]?.commit).toBe('on');
    expect(settings[0]?.standbys).not.toBe('');
    const probe: WriteProbe = await startWriteProbe(ha.url);
    // a long client timeout: on a loaded machine /ready's own 2 s check may take a while to be answered
    const ready: HttpMonitor = monitorHttp(() => `${apiUrl}/ready`, 100, 15_000);
    const engineReady: HttpMonitor = monitorHttp(() => `${engines[0]!.baseUrl}/ready`, 100, 15_000);
    const rounds: Round[] = [];
    const started = Date.now();

    const failRound = async (name: string, kill: (leader: PatroniNode) => void): Promise<void> => {
      const leader = await ha.leader();
      const at = Date.now();
      kill(leader);
      const promoted = await waitFor(
        async () => {
          const next = await ha.leader(1_000);
          return next.name === leader.name ? undefined : next;
        },
        { timeoutMs: 60_000, intervalMs: 200, description: `a new leader after ${name}` },
      );
      const written = await waitFor(() => probe.firstWriteAfter(at), {
        timeoutMs: 60_000,
        intervalMs: 100,
        description: `a committed write after ${name}`,
      });
      const back = await waitFor(() => ready.samples().find((s) => s.at >= at && s.status === 200), {
        timeoutMs: 30_000,
        intervalMs: 100,
        description: `API /ready 200 after ${name}`,
      });
      rounds.push({
        name,
        killed: leader.name,
        promoted: promoted.name,
        at,
        writesBack: written.at,
        readyBack: back.at,
      });
    };

    const failing = (async () => {
      await delay(Math.max(0, started + ROUND_1_AT_MS - Date.now()));
      // round 1: the primary's Postgres dies; its Patroni fails over at once (primary_start_timeout 0) and rejoins it
      await failRound('kill -9 postgres', (leader) => ha.killPostgres(leader));
      // round 2 needs a synchronous standby to promote: the other replica becomes it (the old primary rejoins meanwhile)
      await ha.waitHealthy(60_000, 2);
      await delay(Math.max(0, started + ROUND_2_AT_MS - Date.now()));
      // round 2: the whole node dies (Patroni first, so nothing restarts its Postgres); the leader key must expire
      await failRound('kill -9 patroni + postgres', (leader) => {
        ha.killPatroni(leader);
        ha.killPostgres(leader);
      });
    })();
    const outcomes = await startPaced(RUNS, RATE, (i) =>
      startWithRetry({
        client: () => client,
        workflow: 'ha-failover',
        input: { n: i },
        idempotencyKey: `ha-${i}`,
        timeoutMs: 90_000,
      }),
    );
    const lastStart = Date.now();
    await failing;
    const drain = await waitUntilAllTerminal(db, { since: started, timeoutMs: 90_000, expectedRuns: RUNS });
    await Promise.all([ready.stop(), engineReady.stop(), probe.stop()]);
    // each engine's LISTEN connection found its way to the new primary by itself
    const listening = await waitFor(
      async () => {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity where application_name = 'sagaflow-engine-listen'
        `.execute(db);
        return (rows[0]?.n ?? 0) >= engines.length ? rows[0]!.n : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, description: 'both engines LISTENing on the new primary' },
    ).catch(() => 0);

    const promised = outcomes.flatMap((o) => (o.runId ? [o.runId] : []));
    const report = await world.check({ maxRedeliveries: 2 * CONCURRENCY * 2, promisedRunIds: promised });
    const rows = await db.selectFrom('workflow_runs').select(['id', 'idempotency_key', 'completed_at']).execute();
    const { rows: timeline } = await sql<{
      tl: number;
    }>`select timeline_id::int as tl from pg_control_checkpoint()`.execute(db);

    // throughput from the runs' completion times: before the first kill, and from writes back (round 2) to the drain
    const done = rows.flatMap((r) => (r.completed_at ? [new Date(r.completed_at).getTime()] : []));
    const rate = (from: number, to: number): number =>
      done.filter((t) => t >= from && t < to).length / Math.max(0.001, (to - from) / 1000);
    const [r1, r2] = rounds;
    const drainedAt = started + drain.elapsedMs;
    const failures = outcomes.flatMap((o) => o.failures);
    const retried503 = outcomes.filter((o) => o.runId && o.failures.includes(503)).length;
    const retriedConn = outcomes.filter((o) => o.runId && o.failures.includes('connection')).length;
    const engineLog = (text: string): number => engines.reduce((n, e) => n + countLogMessages(e.process, text), 0);
    const writesBack = rounds.map((r) => ((r.writesBack - r.at) / 1000).toFixed(1)).join(' / ');
    printFigures({
      ...figuresFromReport('Patroni failover ×2 through HAProxy (API + 2 engines)', report, drain.elapsedMs),
      recoverySeconds: Math.max(...rounds.map((r) => r.writesBack - r.at)) / 1000,
      extra: {
        'writes back s (round 1 / 2)': writesBack,
        '/ready 200 again s': rounds.map((r) => ((r.readyBack - r.at) / 1000).toFixed(1)).join(' / '),
        'runs/s before': r1 ? rate(started + 2_000, r1.at).toFixed(1) : '–',
        'runs/s after (catch-up)': r2 ? rate(r2.writesBack, drainedAt).toFixed(1) : '–',
        'offered starts/s': RATE,
        'starts retried after 503': retried503,
        'starts retried after a connection error': retriedConn,
        'start answers 503': failures.filter((f) => f === 503).length,
        'start answers 500': failures.filter((f) => f === 500).length,
        // why the API answered 503: the cause it logs with each (err.code, the SQLSTATE or the socket error)
        '503 causes (API log)': describeCauses(apiLog()),
        'completions retried after a DB error': engineLog('completion failed; retrying'),
        'completions fenced (lease lost, discarded)': engineLog('lease lost before completion'),
        'attempts given up to redelivery': engineLog('attempt crashed'),
        'LISTEN reconnects': engineLog('outbox listener lost its connection'),
        promoted: rounds.map((r) => `${r.killed}→${r.promoted}`).join(', '),
        timeline: timeline[0]?.tl ?? '?',
        'burst s': ((lastStart - started) / 1000).toFixed(1),
      },
    });

    expect(rounds).toHaveLength(2);
    expect.soft(report.violations, formatViolations(report)).toEqual([]);
    expect.soft(report.lostRuns).toBe(0);
    expect.soft(report.duplicateEffects).toBe(0);
    // every client got its 202 in the end, and each key made exactly one run: the one it was told about
    expect.soft(outcomes.filter((o) => !o.runId).map((o) => `${o.key}: ${o.failures.join(',')}`)).toEqual([]);
    expect.soft(rows).toHaveLength(RUNS);
    const runIdByKey = new Map(rows.map((r) => [r.idempotency_key, r.id]));
    expect.soft(outcomes.filter((o) => o.runId && runIdByKey.get(o.key) !== o.runId).map((o) => o.key)).toEqual([]);
    expect.soft(report.byStatus).toEqual({ COMPLETED: RUNS });
    // both kills struck mid-burst, and a start never got a 500 (503 or a connection error while there is no primary)
    for (const round of rounds) expect.soft(round.at, `${round.name} after the last start`).toBeLessThan(lastStart);
    expect.soft(failures.filter((f) => f !== 503 && f !== 'connection')).toEqual([]);
    for (const round of rounds) {
      // /ready said 503 while no primary took writes, and 200 again (no process was restarted)
      // (from the kill to the first 200 after it: on a loaded machine a /ready poll may also time out meanwhile)
      const seen = ready.statusesBetween(round.at, round.readyBack);
      expect.soft(seen.has(503), `API /ready during ${round.name} saw ${[...seen].join(',')}`).toBe(true);
      expect.soft(seen.has(500)).toBe(false);
      expect.soft(round.readyBack).toBeGreaterThan(round.at);
    }
    // the engine says so too in the long outage (round 2), and is ready again by itself
    if (r2) {
      const back = engineReady.samples().find((x) => x.at > r2.at && x.status === 200)?.at ?? Date.now();
      const seen = engineReady.statusesBetween(r2.at, back);
      expect.soft(seen.has(503), `engine /ready during round 2 saw ${[...seen].join(',')}`).toBe(true);
      expect.soft(engineReady.samples().some((s) => s.at >= r2.writesBack && s.status === 200)).toBe(true);
    }
    expect.soft(listening, 'engine LISTEN connections on the new primary').toBe(engines.length);
    // both engines are still the processes started before the burst
    for (const engine of engines) {
      const state = await Promise.race([engine.process.exited.then(() => 'exited'), delay(0, 'running')]);
      expect.soft(state, `${engine.id} is still running`).toBe('running');
    }
    if (report.violations.length > 0) process.stdout.write(`${ha.logTails(20)}\n`);
  });
});

/** "57P01 ×12, ECONNREFUSED ×3": the `err.code` (else message) of the API's `request failed` warnings, most frequent first. */
function describeCauses(records: Array<Record<string, unknown>>): string {
  const counts = new Map<string, number>();
  for (const record of records) {
    if (record['msg'] !== 'request failed' || record['level'] !== 40) continue;
    // pg's own errors (pool checkout timeout, connection ended) carry no code: their message then
    const err = record['err'] as { code?: unknown; message?: unknown } | undefined;
    const code = String(err?.code ?? (typeof err?.message === 'string' ? `"${err.message.slice(0, 60)}"` : 'unknown'));
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  if (counts.size === 0) return 'none';
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ×${n}`)
    .join(', ');
}
