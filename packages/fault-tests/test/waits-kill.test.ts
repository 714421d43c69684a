import { setTimeout as delay } from 'node:timers/promises';
import {
  ConflictError,
  getSchedule,
  NotFoundError,
  pauseSchedule,
  putSchedule,
  sendSignal,
  startRun,
  type Db,
  type SendSignalArgs,
  type SendSignalResult,
} from '@sagaflow/db';
import type { WorkflowDefinition } from '@sagaflow/definitions';
import { waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { figuresFromReport, printFigures } from '../src/figures/figures.js';
import type { EngineProcess } from '../src/processes/engine-process.js';
import { createRandom, readSeed } from '../src/random.js';
import { planKills } from '../src/runs/kill-schedule.js';
import { startPaced } from '../src/runs/paced-starts.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { actionPath, buildWorkflow, compensationPath } from '../src/workflows.js';

const RUNS = 300;
/** every EXPIRING-th run waits for a signal nobody sends: its wait times out (fail) and the run compensates */
const EXPIRING = 10;
const START_FOR_MS = 15_000;
const KILL_EVERY_MS = 3_000;
const KILL_FOR_MS = 24_000;
const FIRE_FOR_S = 30;
const CONCURRENCY = 16;
const ENV = { ENGINE_LEASE_MS: '2000', ENGINE_CONCURRENCY: String(CONCURRENCY) };
const RETRY = { maxAttempts: 20, initialIntervalMs: 20, maxIntervalMs: 200 };

/** When a run's signal is sent, relative to its wait step. */
type Timing = 'before' | 'during';

interface SentSignal {
  runId: string;
  key: string;
  signalId: string;
  /** a second send with the same key and payload: must return the same signalId and store nothing */
  replayedSignalId?: string;
  timing: Timing;
}

/**
 * A well-behaved client: sends with its idempotency key and tries again on anything but a 4xx-like refusal (a pool or
 * connection timeout on a loaded machine), which the key makes safe.
 */
async function withRetry<T>(call: () => Promise<T>): Promise<T & { retries: number }> {
  const deadline = Date.now() + 30_000;
  for (let retries = 0; ; retries++) {
    try {
      return { ...(await call()), retries };
    } catch (error) {
      if (error instanceof ConflictError || error instanceof NotFoundError || Date.now() > deadline) throw error;
      await delay(200);
    }
  }
}

const sendWithRetry = (db: Db, args: SendSignalArgs): Promise<SendSignalResult & { retries: number }> =>
  withRetry(() => sendSignal(db, args));

/** reserve (compensated) → sleep until input.wakeAt → wait for `approval` → finish. */
function approvalWorkflow(name: string, baseUrl: string, timeoutMs: number): WorkflowDefinition {
  const http = (id: string) => ({ method: 'POST' as const, url: `${baseUrl}${actionPath(name, id)}` });
  return {
    name,
    version: '1.0.0',
    steps: [
      {
        id: 'reserve',
        request: http('reserve'),
        compensation: {
          id: 'reserve-undo',
          request: { method: 'POST', url: `${baseUrl}${compensationPath(name, 'reserve')}` },
          retry: RETRY,
        },
      },
      { id: 'nap', sleep: { until: '{{input.wakeAt}}' } },
      { id: 'approve', waitForSignal: { name: 'approval', timeoutMs, onTimeout: 'fail' } },
      { id: 'finish', request: http('finish') },
    ],
  };
}

/**
 * Durable waits and schedules under kill -9 (docs/contract.md#durable-waits): two engines share 300 runs that sleep
 * (0.5–3 s) and then wait for an `approval` signal, while a schedule fires every second for 30 s and one engine is
 * kill -9'd at a random moment every 3 s for 24 s and restarted. Signals go in through the mailbox at random times:
 * some before the run reaches its wait (during its first step or its sleep), some while it waits, a third of them
 * sent twice with the same idempotency key; every tenth run gets none and times out into compensation. Every run ends
 * as scripted, every signal is stored once and consumed exactly once (by its run's wait step, its payload that step's
 * output), each fire time starts exactly one run, and all invariants hold (history included).
 */
describe('waits, signals and a 1-second schedule, two engines, kill -9 every 3 s', () => {
  const random = createRandom(readSeed());
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(approvalWorkflow('approvals', scenario.downstream.url, 60_000));
    await scenario.register(approvalWorkflow('expiring', scenario.downstream.url, 2_000));
    await scenario.register(buildWorkflow('ticks', scenario.downstream.url, [{ id: 'tick' }]));
    scenario.downstream.setScript(() => ({ type: 'reply', status: 200, delayMs: random.int(10, 150) }));
  });
  afterAll(async () => {
    await scenario?.close();
  });

  async function firedSeconds(): Promise<number[]> {
    const rows = await scenario.db
      .selectFrom('workflow_runs')
      .select(['idempotency_key', 'correlation_id'])
      .where('idempotency_key', 'like', 'schedule:waits-tick:%')
      .execute();
    for (const row of rows) expect(row.correlation_id).toBe(row.idempotency_key);
    return rows
      .map((r) => new Date(r.idempotency_key!.slice('schedule:waits-tick:'.length)).getTime() / 1000)
      .sort((a, b) => a - b);
  }

  it(
    'consumes every signal exactly once and fires every second once while engines keep dying',
    { timeout: 150_000 },
    async () => {
      const live: EngineProcess[] = await Promise.all(
        ['waits-a', 'waits-b'].map((id) => scenario.startEngine(`${id}.0`, ENV)),
      );
      const started = Date.now();
      const { schedule } = await putSchedule(scenario.db, 'waits-tick', {
        workflowName: 'ticks',
        cron: '* * * * * *',
        timezone: 'UTC',
        input: { from: 'schedule' },
        context: {},
        overlap: 'allow',
        paused: false,
      });
      const firstFire = new Date(schedule.nextFireAt!).getTime();
      const lastFire = firstFire + FIRE_FOR_S * 1000;

      const kills: Array<{ at: number; engine: string }> = [];
      const killing = (async () => {
        const plan = planKills(random, { everyMs: KILL_EVERY_MS, forMs: KILL_FOR_MS, victims: live.length });
        for (const [n, kill] of plan.entries()) {
          // a loaded machine restarts engines slowly: kills that fall behind by more than one slot are dropped,
          // so the scenario keeps its length (the figures say how many kills happened)
          if (Date.now() > started + kill.offsetMs + KILL_EVERY_MS) continue;
          const wait = started + kill.offsetMs - Date.now();
          if (wait > 0) await delay(wait);
          const victim = live[kill.victim]!;
          kills.push({ at: Date.now(), engine: victim.id });
          await victim.process.kill('SIGKILL');
          const name = `${victim.id.split('.')[0]}.${n + 1}`;
          // on a loaded machine an engine may not start within the harness's 30 s: try once more
          live[kill.victim] = await scenario
            .startEngine(name, ENV)
            .catch(() => scenario.startEngine(`${name}.retry`, ENV));
        }
      })();

      const sent: SentSignal[] = [];
      const signalling: Array<Promise<void>> = [];
      const failures: unknown[] = [];
      const signal = async (runId: string, i: number, timing: Timing, at: number, duplicateAt?: number) => {
        const args = { runId, name: 'approval', payload: { approved: true, n: i }, idempotencyKey: `approval-${i}` };
        await delay(Math.max(0, at - Date.now()));
        const first = await sendWithRetry(scenario.db, args);
        // a retry after a lost answer would find its own signal (created false): never after a connect timeout
        expect(first.created || first.retries > 0).toBe(true);
        const record: SentSignal = { runId, key: args.idempotencyKey, signalId: first.signalId, timing };
        sent.push(record);
        if (duplicateAt === undefined) return;
        await delay(Math.max(0, duplicateAt - Date.now()));
        const again = await sendWithRetry(scenario.db, args);
        expect(again.created).toBe(false);
        record.replayedSignalId = again.signalId;
      };
      const expiring = new Set<string>();
      await startPaced(RUNS, RUNS / (START_FOR_MS / 1000), async (i) => {
        const wakeAt = Date.now() + random.int(500, 3_000);
        const workflowName = i % EXPIRING === 3 ? 'expiring' : 'approvals';
        // with a key, so a start that timed out waiting for a connection is tried again safely
        const { runId } = await withRetry(() =>
          startRun(scenario.db, {
            workflowName,
            input: { n: i, wakeAt: new Date(wakeAt).toISOString() },
            correlationId: `waits-${i}`,
            idempotencyKey: `waits-${i}`,
          }),
        );
        if (workflowName === 'expiring') {
          expiring.add(runId);
          return runId;
        }
        // before: at once or during the sleep (the wait has not begun); during: after the sleep, up to 6 s into the wait
        const timing: Timing = random.next() < 0.4 ? 'before' : 'during';
        const at = timing === 'before' ? Date.now() + random.int(0, 400) : wakeAt + random.int(300, 6_000);
        const duplicateAt = random.next() < 0.33 ? at + random.int(0, 4_000) : undefined;
        signalling.push(signal(runId, i, timing, at, duplicateAt).catch((error: unknown) => void failures.push(error)));
        return runId;
      });
      await Promise.all(signalling);
      expect(failures).toEqual([]);
      await killing;

      await waitFor(async () => (await firedSeconds()).some((s) => s >= lastFire / 1000), {
        timeoutMs: 30_000,
        intervalMs: 200,
        description: `the fire time ${new Date(lastFire).toISOString()}`,
      });
      await pauseSchedule(scenario.db, 'waits-tick');
      const drain = await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 60_000 });
      const report = await scenario.check({ maxRedeliveries: kills.length * CONCURRENCY });
      const seconds = await firedSeconds();
      const after = (await getSchedule(scenario.db, 'waits-tick'))!;

      // how each wait step ended: run status, step status and error, output, and the signal it consumed
      const { rows: waits } = await sql<{
        run_id: string;
        run_status: string;
        step_status: string;
        code: string | null;
        output: { approved?: boolean; n?: number } | null;
      }>`
        select r.id as run_id, r.status as run_status, s.status as step_status, s.error ->> 'code' as code, s.output
          from workflow_runs r join run_steps s on s.run_id = r.id and s.step_id = 'approve'`.execute(scenario.db);
      const { rows: signals } = await sql<{ id: string; run_id: string; consumed_by: string | null }>`
        select id, run_id, consumed_by from run_signals`.execute(scenario.db);
      const { rows: beganWaiting } = await sql<{ run_id: string; at: Date }>`
        select run_id, at from run_events where type = 'STEP_WAITING' and step_id = 'approve'`.execute(scenario.db);
      const waitBegan = new Map(beganWaiting.map((r) => [r.run_id, r.at.getTime()]));
      const { rows: arrivals } = await sql<{ id: string; at: Date }>`
        select data ->> 'signalId' as id, at from run_events where type = 'SIGNAL_RECEIVED'`.execute(scenario.db);
      const arrivedAt = new Map(arrivals.map((r) => [r.id, r.at.getTime()]));
      const beforeWait = sent.filter((s) => arrivedAt.get(s.signalId)! < (waitBegan.get(s.runId) ?? Infinity)).length;
      const duplicates = sent.filter((s) => s.replayedSignalId !== undefined);

      printFigures({
        ...figuresFromReport('waits + signals + 1-second schedule, engine kill -9', report, drain.elapsedMs),
        extra: {
          kills: `${kills.length}/${KILL_FOR_MS / KILL_EVERY_MS}`,
          signals: sent.length,
          'arrived before the wait': beforeWait,
          'duplicate sends': duplicates.length,
          'timed out': waits.filter((w) => w.code === 'SIGNAL_TIMEOUT').length,
          'fire times': seconds.length,
          missed: after.missedCount,
          statuses: JSON.stringify(report.byStatus),
          seed: random.seed,
        },
      });

      expect(report.violations, formatViolations(report)).toEqual([]);
      expect(report.duplicateEffects).toBe(0);
      expect(kills.length).toBeGreaterThanOrEqual(1);
      expect(kills.length).toBeLessThanOrEqual(KILL_FOR_MS / KILL_EVERY_MS);

      // the waiting runs: the approved ones COMPLETED, the wait's output the signal's payload
      const byRun = new Map(waits.map((w) => [w.run_id, w]));
      expect(waits).toHaveLength(RUNS);
      for (const s of sent) {
        const w = byRun.get(s.runId)!;
        expect({ runId: s.runId, status: w.run_status, step: w.step_status, n: w.output?.n }).toEqual({
          runId: s.runId,
          status: 'COMPLETED',
          step: 'SUCCEEDED',
          n: Number(s.key.slice('approval-'.length)),
        });
      }
      // the expiring ones timed out (fail) and compensated
      for (const runId of expiring)
        expect(byRun.get(runId)).toMatchObject({
          run_status: 'COMPENSATED',
          step_status: 'FAILED',
          code: 'SIGNAL_TIMEOUT',
        });
      expect(sent.length + expiring.size).toBe(RUNS);

      // each signal stored once (a duplicate send returned the same id) and consumed exactly once, by its run's wait
      for (const d of duplicates) expect(d.replayedSignalId).toBe(d.signalId);
      expect(signals).toHaveLength(sent.length);
      expect(new Set(signals.map((s) => s.id))).toEqual(new Set(sent.map((s) => s.signalId)));
      expect(signals.filter((s) => s.consumed_by !== 'approve')).toEqual([]);
      // the mailbox case did happen: signals stored before their run began to wait
      expect(beforeWait).toBeGreaterThan(0);
      expect(beforeWait).toBeLessThan(sent.length);

      // every second from the first fire time to the last started exactly one run, all COMPLETED
      expect(seconds[0]).toBe(firstFire / 1000);
      expect(seconds).toEqual(seconds.map((_, i) => firstFire / 1000 + i));
      expect(seconds.length).toBeGreaterThanOrEqual(FIRE_FOR_S + 1);
      expect(after).toMatchObject({ missedCount: 0, skippedCount: 0, paused: true });
      expect(report.runs).toBe(RUNS + seconds.length);
      expect(report.byStatus['COMPLETED']).toBe(sent.length + seconds.length);
      expect(report.byStatus['COMPENSATED']).toBe(expiring.size);
    },
  );
});
