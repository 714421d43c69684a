import { setTimeout as delay } from 'node:timers/promises';
import { startRun } from '@sagaflow/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { figuresFromReport, printFigures } from '../src/figures/figures.js';
import type { EngineProcess } from '../src/processes/engine-process.js';
import { createRandom, readSeed } from '../src/random.js';
import { planKills } from '../src/runs/kill-schedule.js';
import { startPaced } from '../src/runs/paced-starts.js';
import { countRunsByErrorCode } from '../src/runs/run-stats.js';
import { measureRecoveryMs } from '../src/runs/recovery.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const RUNS = 500;
const KILL_EVERY_MS = 2_000;
const KILL_FOR_MS = 20_000;
const CONCURRENCY = 32;
const ENV = { ENGINE_LEASE_MS: '2000', ENGINE_CONCURRENCY: String(CONCURRENCY) };

/**
 * Two engines share 500 runs while one of them is kill -9'd at a random moment every 2 s for 20 s and
 * restarted. Every tenth run is rejected by its third step and unwinds. Nothing may be lost or done twice.
 */
describe('two engines, 500 runs, kill -9 every 2 s', () => {
  const random = createRandom(readSeed());
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(
      buildWorkflow('orders', scenario.downstream.url, [
        { id: 'reserve', compensated: true },
        { id: 'charge', compensated: true },
        { id: 'ship' },
        { id: 'notify' },
      ]),
    );
    scenario.downstream.setScript((request) => {
      const input = (request.body as { input?: { reject?: boolean } } | null)?.input;
      const status = request.stepId === 'ship' && input?.reject ? 400 : 200;
      return { type: 'reply', status, delayMs: random.int(20, 250) };
    });
  });
  afterAll(async () => {
    await scenario?.close();
  });

  it(
    'completes or compensates every run, with each effect once, while engines keep dying',
    { timeout: 180_000 },
    async () => {
      const live: EngineProcess[] = await Promise.all(
        ['kill-a', 'kill-b'].map((id) => scenario.startEngine(`${id}.0`, ENV)),
      );
      const kills: Array<{ at: number; engine: string; restartMs: number }> = [];
      const started = Date.now();

      const killing = (async () => {
        for (const [n, kill] of planKills(random, {
          everyMs: KILL_EVERY_MS,
          forMs: KILL_FOR_MS,
          victims: live.length,
        }).entries()) {
          const wait = started + kill.offsetMs - Date.now();
          if (wait > 0) await delay(wait);
          const victim = live[kill.victim]!;
          const at = Date.now();
          await victim.process.kill('SIGKILL');
          const name = `${victim.id.split('.')[0]}.${n + 1}`;
          live[kill.victim] = await scenario.startEngine(name, ENV);
          kills.push({ at, engine: victim.id, restartMs: Date.now() - at });
        }
      })();
      const rejected = new Set<number>();
      await startPaced(RUNS, RUNS / (KILL_FOR_MS / 1000), (i) => {
        const reject = i % 10 === 7;
        if (reject) rejected.add(i);
        return startRun(scenario.db, { workflowName: 'orders', input: { n: i, reject }, correlationId: `kill-${i}` });
      });
      await killing;

      const drain = await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 90_000, expectedRuns: RUNS });
      const report = await scenario.check({ maxRedeliveries: kills.length * CONCURRENCY });
      const errors = await countRunsByErrorCode(scenario.db);
      const parked = errors['DELIVERY_EXHAUSTED'] ?? 0;
      printFigures({
        ...figuresFromReport('engine kill -9 (2 engines)', report, drain.elapsedMs),
        recoverySeconds: (measureRecoveryMs(scenario.downstream.requests(), kills) ?? 0) / 1000,
        extra: {
          kills: kills.length,
          'abandoned requests': report.abandoned,
          'max restart s': (Math.max(...kills.map((k) => k.restartMs)) / 1000).toFixed(1),
          'parked runs': parked,
          statuses: JSON.stringify(report.byStatus),
          seed: random.seed,
        },
      });

      expect(report.violations, formatViolations(report)).toEqual([]);
      expect(report.runs).toBe(RUNS);
      expect(report.duplicateEffects).toBe(0);
      expect(kills).toHaveLength(KILL_FOR_MS / KILL_EVERY_MS);
      // the kills did hit attempts in flight, and those were redone
      expect(report.abandoned).toBeGreaterThan(0);
      expect(report.redeliveries).toBeGreaterThan(0);
      // every run ends as its script says, unless an item outlived ENGINE_MAX_DELIVERIES deliveries (then it is parked)
      expect(report.byStatus['COMPLETED'] ?? 0).toBe(RUNS - rejected.size - parked);
      expect(errors['STEP_FAILED']).toBe(rejected.size);
    },
  );
});
