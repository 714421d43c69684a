import { setTimeout as delay } from 'node:timers/promises';
import { startRun } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figuresFromReport, printFigures } from '../src/figures/figures.js';
import { formatViolations } from '../src/invariants/check-invariants.js';
import type { EngineProcess } from '../src/processes/engine-process.js';
import { createRandom, readSeed } from '../src/random.js';
import { startPaced } from '../src/runs/paced-starts.js';
import { measureRecoveryMs } from '../src/runs/recovery.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const RUNS = 300;
const KILLS = 4;
const CONCURRENCY = 32;
const ENV = { ENGINE_LEASE_MS: '1500', ENGINE_CONCURRENCY: String(CONCURRENCY) };

/**
 * Every run fails at its last step and unwinds three compensations, each slow (150–400 ms). An engine is
 * kill -9'd whenever at least five compensations are in flight, four times. The unwinding must resume on the
 * other engine, in reverse order, with each compensation's effect applied once.
 */
describe('kill -9 during compensation', () => {
  const random = createRandom(readSeed());
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(
      buildWorkflow('unwind', scenario.downstream.url, [
        { id: 'hold', compensated: true },
        { id: 'charge', compensated: true },
        { id: 'pack', compensated: true },
        { id: 'ship' },
      ]),
    );
    scenario.downstream.setScript((request) => {
      if (request.kind === 'compensation') return { type: 'reply', status: 200, delayMs: random.int(150, 400) };
      return { type: 'reply', status: request.stepId === 'ship' ? 422 : 200, delayMs: random.int(5, 40) };
    });
  });
  afterAll(async () => {
    await scenario?.close();
  });

  it(
    'resumes every unwinding after the kills and compensates each step once, in reverse order',
    { timeout: 150_000 },
    async () => {
      // slots of two engines; a killed one is replaced in the background, so the kills do not wait for restarts
      const live: Array<EngineProcess | undefined> = await Promise.all(
        ['undo-a', 'undo-b'].map((id) => scenario.startEngine(`${id}.0`, ENV)),
      );
      const restarts: Array<Promise<unknown>> = [];
      const kills: Array<{ at: number; inFlight: number }> = [];
      const started = Date.now();
      const killing = (async () => {
        for (let n = 1; n <= KILLS; n++) {
          const inFlight = await waitFor(
            () => {
              const count = scenario.downstream.inFlight((r) => r.kind === 'compensation').length;
              return count >= 5 && live.some(Boolean) ? count : undefined;
            },
            { timeoutMs: 30_000, intervalMs: 10, description: 'five compensations in flight' },
          );
          const slots = live.flatMap((engine, slot) => (engine ? [slot] : []));
          const slot = slots[random.int(0, slots.length - 1)]!;
          const victim = live[slot]!;
          live[slot] = undefined;
          const at = Date.now();
          await victim.process.kill('SIGKILL');
          kills.push({ at, inFlight });
          restarts.push(
            scenario.startEngine(`${victim.id.split('.')[0]}.${n}`, ENV).then((engine) => (live[slot] = engine)),
          );
          await delay(1_000); // the fault schedule: at most one kill a second
        }
        await Promise.all(restarts);
      })();
      await startPaced(RUNS, 20, (i) =>
        startRun(scenario.db, { workflowName: 'unwind', input: { n: i }, correlationId: `undo-${i}` }),
      );
      await killing;
      const drain = await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 60_000, expectedRuns: RUNS });

      const report = await scenario.check({ maxRedeliveries: KILLS * CONCURRENCY });
      const requests = scenario.downstream.requests();
      const orphaned = requests.filter((r) => r.kind === 'compensation' && r.abandoned);
      const redone = orphaned.filter((o) => requests.some((r) => r.key === o.key && r.seq > o.seq)).length;
      printFigures({
        ...figuresFromReport('kill -9 during compensation', report, drain.elapsedMs),
        recoverySeconds: (measureRecoveryMs(requests, kills) ?? 0) / 1000,
        extra: {
          kills: kills.length,
          'compensations in flight at kills': kills.map((k) => k.inFlight).join('/'),
          'compensations redelivered': redone,
          statuses: JSON.stringify(report.byStatus),
          seed: random.seed,
        },
      });

      expect(report.violations, formatViolations(report)).toEqual([]);
      expect(report.byStatus).toEqual({ COMPENSATED: RUNS });
      expect(report.duplicateEffects).toBe(0);
      expect(kills).toHaveLength(KILLS);
      // the kills cut compensations off mid-request, and those were sent again and completed
      expect(orphaned.length).toBeGreaterThan(0);
      expect(redone).toBe(orphaned.length);
    },
  );
});
