import { setTimeout as delay } from 'node:timers/promises';
import { getSchedule, pauseSchedule, putSchedule } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { figuresFromReport, printFigures } from '../src/figures/figures.js';
import { createRandom, readSeed } from '../src/random.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const FIRE_FOR_S = 30;
const CONCURRENCY = 16;
const ENV = { ENGINE_CONCURRENCY: String(CONCURRENCY) };

interface FiredRun {
  createdAt: Date;
  fireAt: Date;
}

/**
 * A schedule firing every second for 30 s, two engines; one is kill -9'd mid-way, right at a fire time (when the
 * engines are firing), and restarted 2 s later. Every fire time must start exactly one run: no gap (one engine is
 * always alive, so nothing counts as missed) and no duplicate, and the runs satisfy every invariant.
 */
describe('a 1-second schedule, two engines, one kill -9', () => {
  const random = createRandom(readSeed());
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(buildWorkflow('ticks', scenario.downstream.url, [{ id: 'tick', compensated: true }]));
    scenario.downstream.setScript(() => ({ type: 'reply', status: 200, delayMs: random.int(10, 200) }));
  });
  afterAll(async () => {
    await scenario?.close();
  });

  async function firedRuns(): Promise<FiredRun[]> {
    const rows = await scenario.db
      .selectFrom('workflow_runs')
      .select(['idempotency_key', 'correlation_id', 'created_at'])
      .where('idempotency_key', 'like', 'schedule:every-second:%')
      .orderBy('created_at')
      .execute();
    for (const row of rows) expect(row.correlation_id).toBe(row.idempotency_key);
    return rows.map((r) => ({
      createdAt: r.created_at,
      fireAt: new Date(r.idempotency_key!.slice('schedule:every-second:'.length)),
    }));
  }

  it('starts exactly one run per fire time while an engine dies', { timeout: 150_000 }, async () => {
    const engines = await Promise.all(['sched-a', 'sched-b'].map((id) => scenario.startEngine(id, ENV)));
    const started = Date.now();
    const { schedule } = await putSchedule(scenario.db, 'every-second', {
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

    // mid-way, within 30 ms after a fire time: when the engines are inside their fire transactions
    const killAt = firstFire + random.int(12, 18) * 1000 + random.int(0, 30);
    await delay(Math.max(0, killAt - Date.now()));
    const victim = engines[random.int(0, 1)]!;
    const killedAt = Date.now();
    await victim.process.kill('SIGKILL');
    await delay(2_000);
    await scenario.startEngine(`${victim.id}.1`, ENV);

    await waitFor(async () => (await firedRuns()).some((r) => r.fireAt.getTime() >= lastFire), {
      timeoutMs: 60_000,
      intervalMs: 100,
      description: `the fire time ${new Date(lastFire).toISOString()}`,
    });
    await pauseSchedule(scenario.db, 'every-second');

    const drain = await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 60_000 });
    const report = await scenario.check({ maxRedeliveries: CONCURRENCY });
    const runs = await firedRuns();
    const seconds = runs.map((r) => r.fireAt.getTime() / 1000).sort((a, b) => a - b);
    const lateness = runs.map((r) => r.createdAt.getTime() - r.fireAt.getTime());
    const gapAroundKill = Math.max(
      ...runs
        .map((r, i) => (i > 0 ? r.createdAt.getTime() - runs[i - 1]!.createdAt.getTime() : 0))
        .filter((_, i) => i > 0 && Math.abs(runs[i]!.createdAt.getTime() - killedAt) < 5_000),
    );
    const after = (await getSchedule(scenario.db, 'every-second'))!;
    printFigures({
      ...figuresFromReport('1-second schedule, engine kill -9', report, drain.elapsedMs),
      recoverySeconds: gapAroundKill / 1000,
      extra: {
        'fire times': seconds.length,
        missed: after.missedCount,
        skipped: after.skippedCount,
        'lateness ms max': Math.max(...lateness),
        'lateness ms median': [...lateness].sort((a, b) => a - b)[Math.floor(lateness.length / 2)]!,
        seed: random.seed,
      },
    });

    expect(report.violations, formatViolations(report)).toEqual([]);
    expect(report.duplicateEffects).toBe(0);
    // every second from the first fire time to the last, each once
    expect(seconds[0]).toBe(firstFire / 1000);
    expect(seconds).toEqual(seconds.map((_, i) => firstFire / 1000 + i));
    expect(seconds.length).toBeGreaterThanOrEqual(FIRE_FOR_S + 1);
    expect(report.runs).toBe(seconds.length);
    expect(report.byStatus['COMPLETED']).toBe(seconds.length);
    expect(after).toMatchObject({ missedCount: 0, skippedCount: 0, paused: true, nextFireAt: null });
    // each run started promptly after its fire time, the kill included (one engine was alive throughout)
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...lateness)).toBeLessThan(3_000);
  });
});
