import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deleteSchedule,
  getSchedule,
  pauseSchedule,
  putSchedule,
  resumeSchedule,
  triggerSchedule,
  type ScheduleSpec,
} from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { startEngine, type RunningEngine } from '../src/index.js';
import { createEngineHarness, type EngineHarness, type Saga } from './helpers/harness.js';

/**
 * Schedules fired by the engines (docs/contract.md#schedules), two engine instances on one database: exactly one run
 * per fire time, overlap skip, fire times missed while no engine ran, pause/resume/trigger, delete.
 */

let h: EngineHarness;
let engines: RunningEngine[];
let saga: Saga;

beforeAll(async () => {
  h = await createEngineHarness({ engine: false });
  const logger = pino({ level: 'silent' });
  const options = {
    databaseUrl: h.database.url,
    serviceUrls: {},
    pollIntervalMs: 50,
    shutdownGraceMs: 1_000,
    poolSize: 4,
    logger,
    schedulePollMs: 1_000,
    scheduleCatchUpMs: 10_000,
  };
  engines = [
    await startEngine({ ...options, id: 'engine-a', port: 0 }),
    await startEngine({ ...options, id: 'engine-b', port: 0 }),
  ];
  saga = await h.defineSaga('scheduled', [{ id: 'work' }]);
});

afterAll(async () => {
  for (const engine of engines ?? []) await engine.stop();
  await h?.close();
});

function spec(overrides: Partial<ScheduleSpec> = {}): ScheduleSpec {
  return {
    workflowName: saga.name,
    cron: '* * * * * *',
    timezone: 'UTC',
    input: { from: 'schedule' },
    context: { tenant: 'acme' },
    overlap: 'allow',
    paused: false,
    ...overrides,
  };
}

interface ScheduledRun {
  id: string;
  key: string;
  correlationId: string;
  status: string;
  createdAt: Date;
  /** the fire time the key names (null for a trigger) */
  fireAt: Date | null;
}

async function runsOf(scheduleId: string): Promise<ScheduledRun[]> {
  const rows = await h.db
    .selectFrom('workflow_runs')
    .select(['id', 'idempotency_key', 'correlation_id', 'status', 'created_at'])
    .where('idempotency_key', 'like', `schedule:${scheduleId}:%`)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => {
    const time = r.idempotency_key!.slice(`schedule:${scheduleId}:`.length);
    return {
      id: r.id,
      key: r.idempotency_key!,
      correlationId: r.correlation_id,
      status: r.status,
      createdAt: r.created_at,
      fireAt: time.startsWith('trigger:') ? null : new Date(time),
    };
  });
}

function waitForRuns(scheduleId: string, count: number, timeoutMs = 20_000): Promise<ScheduledRun[]> {
  return waitFor(
    async () => {
      const runs = await runsOf(scheduleId);
      return runs.length >= count ? runs : undefined;
    },
    { timeoutMs, intervalMs: 50, description: `${count} runs of schedule ${scheduleId}` },
  );
}

/** Fire times, as epoch seconds, of the cron-driven runs. */
const fireSeconds = (runs: ScheduledRun[]) =>
  runs.filter((r) => r.fireAt !== null).map((r) => r.fireAt!.getTime() / 1000);

/**
 * Waits until another every-second schedule has fired `n` more times: proof that the engines kept firing for that
 * long, instead of a sleep, before asserting that something else did not fire.
 */
async function witnessSeconds(n: number): Promise<void> {
  const id = `witness-${Math.random().toString(36).slice(2, 8)}`;
  await putSchedule(h.db, id, spec());
  await waitForRuns(id, n);
  await deleteSchedule(h.db, id);
}

/** schedule_fires_total{outcome} summed over both engines. */
async function metric(outcome: string): Promise<number> {
  let sum = 0;
  for (const engine of engines) {
    const text = await (await fetch(`http://127.0.0.1:${engine.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`schedule_fires_total{outcome="${outcome}"}`));
    sum += line ? Number(line.split(' ')[1]) : 0;
  }
  return sum;
}

describe('schedules fired by two engines', () => {
  it('a 1-second cron fires every second: one run per fire time, none missing, each with the schedule input', async () => {
    const created = await putSchedule(h.db, 'every-second', spec());
    const firstFire = new Date(created.schedule.nextFireAt!).getTime() / 1000;
    const runs = await waitForRuns('every-second', 6);
    await pauseSchedule(h.db, 'every-second');
    const all = await runsOf('every-second');
    const seconds = fireSeconds(all);
    expect(seconds[0]).toBe(firstFire);
    // consecutive seconds: no gap, no duplicate
    expect(seconds).toEqual(seconds.map((_, i) => firstFire + i));
    for (const run of all) {
      expect(run.correlationId).toBe(run.key);
      expect(run.key).toBe(`schedule:every-second:${run.fireAt!.toISOString()}`);
    }
    const lateness = all.map((r) => r.createdAt.getTime() - r.fireAt!.getTime());
    // started at or after its fire time, and promptly (bound generous for a loaded 2-core machine)
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...lateness)).toBeLessThan(2_000);
    const view = await h.getRun(runs[0]!.id);
    expect(view.run).toMatchObject({ input: { from: 'schedule' }, context: { tenant: 'acme' } });
    expect((await h.waitTerminal(runs[0]!.id)).run.status).toBe('COMPLETED');
    const schedule = await getSchedule(h.db, 'every-second');
    const last = all.at(-1)!;
    expect(schedule).toMatchObject({
      lastRunId: last.id,
      lastFireAt: last.fireAt!.toISOString(),
      nextFireAt: null,
      skippedCount: 0,
      missedCount: 0,
    });
    expect(await metric('fired')).toBeGreaterThanOrEqual(1);
  });

  it('overlap skip: no run while the previous one is going, counted in skippedCount; the next fire after it ends starts one', async () => {
    h.downstream.holdPath(saga.path('work'));
    try {
      await putSchedule(h.db, 'no-overlap', spec({ overlap: 'skip' }));
      const [first] = await waitForRuns('no-overlap', 1);
      const skipped = await waitFor(
        async () => {
          const s = await getSchedule(h.db, 'no-overlap');
          return s && s.skippedCount >= 2 ? s : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 50, description: 'two skipped fire times' },
      );
      expect(await runsOf('no-overlap')).toHaveLength(1);
      expect(skipped).toMatchObject({ lastRunId: first!.id, lastFireAt: first!.fireAt!.toISOString() });
      expect(await metric('skipped')).toBeGreaterThanOrEqual(2);
    } finally {
      h.downstream.releasePath(saga.path('work'));
    }
    const runs = await waitForRuns('no-overlap', 2);
    await pauseSchedule(h.db, 'no-overlap');
    const [first, second] = runs;
    expect((await h.waitTerminal(first!.id)).run.status).toBe('COMPLETED');
    // the second run's fire time came after the first run ended
    const firstEnded = (await h.getRun(first!.id)).run.completedAt!;
    expect(second!.fireAt!.getTime()).toBeGreaterThanOrEqual(new Date(firstEnded).getTime() - 1_000);
    const schedule = (await getSchedule(h.db, 'no-overlap'))!;
    expect(schedule.missedCount).toBe(0);
  });

  it('fire times missed while no engine ran: only the most recent fires, the older ones are counted as missed', async () => {
    // read before the engines can see the schedule (they may count the missed fire times at once after notify)
    const before = await metric('missed');
    await putSchedule(h.db, 'came-back', spec({ paused: true }));
    // as if the engines had been down for a minute: the fire time owed is 60 s old
    const owed = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    await h.db
      .updateTable('schedules')
      .set({ paused: false, next_fire_at: owed })
      .where('id', '=', 'came-back')
      .execute();
    for (const engine of engines) engine.engine.notify();
    const [first] = await waitForRuns('came-back', 1);
    await pauseSchedule(h.db, 'came-back');
    const runs = await runsOf('came-back');
    const schedule = (await getSchedule(h.db, 'came-back'))!;
    // the first run is for the most recent second at the time it fired, not one of the 60 before it
    expect(first!.createdAt.getTime() - first!.fireAt!.getTime()).toBeLessThan(2_000);
    expect(schedule.missedCount).toBeGreaterThanOrEqual(59);
    // the seconds after the catch-up fire as usual: consecutive from the first
    const seconds = fireSeconds(runs);
    expect(seconds).toEqual(seconds.map((_, i) => seconds[0]! + i));
    expect(schedule.skippedCount).toBe(0);
    expect((await metric('missed')) - before).toBe(schedule.missedCount);
  });

  it('pause stops firing, resume fires again from now, trigger starts one run now', async () => {
    await putSchedule(h.db, 'pausable', spec());
    await waitForRuns('pausable', 2);
    const paused = await pauseSchedule(h.db, 'pausable');
    expect(paused.nextFireAt).toBeNull();
    const atPause = (await runsOf('pausable')).length;
    await witnessSeconds(3);
    expect(await runsOf('pausable')).toHaveLength(atPause);

    const triggered = await triggerSchedule(h.db, 'pausable');
    const afterTrigger = await runsOf('pausable');
    expect(afterTrigger).toHaveLength(atPause + 1);
    expect(afterTrigger.find((r) => r.id === triggered.runId)).toMatchObject({
      key: `schedule:pausable:trigger:${triggered.firedAt}`,
      correlationId: `schedule:pausable:trigger:${triggered.firedAt}`,
      fireAt: null,
    });
    expect(await getSchedule(h.db, 'pausable')).toMatchObject({
      lastRunId: triggered.runId,
      lastFireAt: triggered.firedAt,
      nextFireAt: null,
    });

    const resumed = await resumeSchedule(h.db, 'pausable');
    const resumedAt = new Date(resumed.updatedAt).getTime();
    const runs = await waitForRuns('pausable', atPause + 3);
    await pauseSchedule(h.db, 'pausable');
    const fresh = runs.slice(atPause).filter((r) => r.fireAt !== null);
    expect(fresh.length).toBeGreaterThanOrEqual(2);
    // no fire time of the paused period was fired after resume
    for (const run of fresh) expect(run.fireAt!.getTime()).toBeGreaterThan(resumedAt - 1_000);
  });

  it('delete stops firing', async () => {
    await putSchedule(h.db, 'doomed', spec());
    await waitForRuns('doomed', 2);
    await deleteSchedule(h.db, 'doomed');
    const atDelete = (await runsOf('doomed')).length;
    await witnessSeconds(3);
    expect(await runsOf('doomed')).toHaveLength(atDelete);
    expect(await getSchedule(h.db, 'doomed')).toBeUndefined();
  });
});
