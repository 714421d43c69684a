import { setTimeout as delay } from 'node:timers/promises';
import { createClient } from '@sagaflow/client';
import { startRun } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { figuresFromReport, printFigures } from '../src/figures/figures.js';
import type { EngineProcess } from '../src/processes/engine-process.js';
import { createRandom, readSeed } from '../src/random.js';
import { planKills } from '../src/runs/kill-schedule.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { ADMIN_TOKEN, createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const RUNS = 500;
const RATE = 50;
const KILL_EVERY_MS = 1_000;
const KILL_FOR_MS = 8_000;
const CONCURRENCY = 32;
const ENV = { ENGINE_LEASE_MS: '2000', ENGINE_CONCURRENCY: String(CONCURRENCY) };

/**
 * 500 runs failed at their second step. The service is fixed, and a bulk operation created through the API redrives
 * every FAILED run at 50/s (10 s of work) while two engines share it and one of them is kill -9'd at a random moment
 * every second for 8 s and restarted. Each run must be redriven exactly once: one OPERATOR_ACTION naming the
 * operation, one more attempt of the failed step, and the invariants of every run.
 */
describe('bulk redrive of 500 failed runs while engines are kill -9d', () => {
  const random = createRandom(readSeed());
  let scenario: Scenario;
  let fixed = false;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(buildWorkflow('redrives', scenario.downstream.url, [{ id: 'reserve' }, { id: 'charge' }]));
    // charge refuses (422, permanent) until the service is fixed; then everything succeeds
    scenario.downstream.setScript((request) => {
      const refused = request.stepId === 'charge' && request.kind === 'action' && !fixed;
      return { type: 'reply', status: refused ? 422 : 200, delayMs: random.int(5, 60) };
    });
  });
  afterAll(async () => {
    await scenario?.close();
  });

  it('redrives each run exactly once and every run completes', { timeout: 240_000 }, async () => {
    const live: EngineProcess[] = await Promise.all(['op-a', 'op-b'].map((id) => scenario.startEngine(`${id}.0`, ENV)));
    const api = await scenario.startApi();
    const client = createClient({ baseUrl: api.url, adminToken: ADMIN_TOKEN });
    const started = Date.now();
    // charge is refused and nothing before it has a compensation: every run ends FAILED (redrivable)
    for (let i = 0; i < RUNS; i++) {
      await startRun(scenario.db, { workflowName: 'redrives', input: { n: i }, correlationId: `redrive-${i}` });
    }
    await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 90_000, expectedRuns: RUNS });
    const counts = await client.runs.counts({ workflowName: 'redrives' });
    expect(counts.byStatus.FAILED).toBe(RUNS);

    fixed = true;
    const dry = await client.admin.operations.create({
      action: 'redrive',
      filter: { workflowName: 'redrives', status: ['FAILED'] },
      dryRun: true,
    });
    expect(dry).toMatchObject({ matched: RUNS, eligible: RUNS });
    const opStarted = Date.now();
    const { operationId, matched } = await client.admin.operations.create({
      action: 'redrive',
      filter: { workflowName: 'redrives', status: ['FAILED'] },
      ratePerSecond: RATE,
      reason: 'charge service fixed',
    });
    expect(matched).toBe(RUNS);

    const kills: Array<{ at: number; engine: string }> = [];
    for (const [n, kill] of planKills(random, {
      everyMs: KILL_EVERY_MS,
      forMs: KILL_FOR_MS,
      victims: live.length,
    }).entries()) {
      const wait = opStarted + kill.offsetMs - Date.now();
      if (wait > 0) await delay(wait);
      const victim = live[kill.victim]!;
      kills.push({ at: Date.now(), engine: victim.id });
      await victim.process.kill('SIGKILL');
      live[kill.victim] = await scenario.startEngine(`${victim.id.split('.')[0]}.${n + 1}`, ENV);
    }

    const operation = await waitFor(
      async () => {
        const view = await client.admin.operations.get(operationId);
        return view.status === 'COMPLETED' ? view : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, description: 'the operation to complete' },
    );
    const operationSeconds = (Date.parse(operation.finishedAt!) - Date.parse(operation.createdAt)) / 1000;
    const drain = await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 90_000, expectedRuns: RUNS });
    const report = await scenario.check({ maxRedeliveries: kills.length * CONCURRENCY });

    // per run: OPERATOR_ACTION events naming this operation, and attempts of charge (1 refused + 1 redriven)
    const actions = await scenario.db
      .selectFrom('run_events')
      .select(['run_id', scenario.db.fn.countAll<string>().as('n')])
      .where('type', '=', 'OPERATOR_ACTION')
      .where(sql<boolean>`data ->> 'operationId' = ${operationId}`)
      .groupBy('run_id')
      .execute();
    const chargeAttempts = await scenario.db
      .selectFrom('step_attempts')
      .select(['run_id', scenario.db.fn.countAll<string>().as('n')])
      .where('step_index', '=', 1)
      .where('kind', '=', 'action')
      .groupBy('run_id')
      .execute();
    const chargeRequestsByRun = new Map<string, Set<number>>();
    for (const request of scenario.downstream.requests({ path: '/redrives/charge' })) {
      const attempts = chargeRequestsByRun.get(request.runId!) ?? new Set<number>();
      attempts.add(request.attempt!);
      chargeRequestsByRun.set(request.runId!, attempts);
    }

    printFigures({
      ...figuresFromReport('bulk redrive, engine kill -9 (2 engines)', report, drain.elapsedMs),
      extra: {
        kills: kills.length,
        'operation s': operationSeconds.toFixed(1),
        'rate /s': RATE,
        statuses: JSON.stringify(report.byStatus),
        seed: random.seed,
      },
    });

    expect(report.violations, formatViolations(report)).toEqual([]);
    expect(report.duplicateEffects).toBe(0);
    expect(kills).toHaveLength(KILL_FOR_MS / KILL_EVERY_MS);
    expect(operation).toMatchObject({ total: RUNS, succeeded: RUNS, skipped: 0, failed: 0, errors: [] });
    expect(report.byStatus['COMPLETED']).toBe(RUNS);
    // exactly once: one OPERATOR_ACTION per run, two recorded attempts of charge, two attempt numbers sent
    expect(actions).toHaveLength(RUNS);
    expect(actions.every((a) => Number(a.n) === 1)).toBe(true);
    expect(chargeAttempts).toHaveLength(RUNS);
    expect(chargeAttempts.every((a) => Number(a.n) === 2)).toBe(true);
    expect(chargeRequestsByRun.size).toBe(RUNS);
    expect([...chargeRequestsByRun.values()].every((s) => s.size === 2 && s.has(1) && s.has(2))).toBe(true);
    // at 50/s, 500 runs cannot take less than ~10 s
    expect(operationSeconds).toBeGreaterThanOrEqual((RUNS - 5) / RATE - 0.5);
  });
});
