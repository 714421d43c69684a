import { startRun } from '@sagaflow/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFaults, type FaultCounts } from '../src/downstream/chaos-script.js';
import { figuresFromReport, printFigures } from '../src/figures/figures.js';
import { countLogMessages } from '../src/processes/log-records.js';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { createRandom, readSeed } from '../src/random.js';
import { startPaced } from '../src/runs/paced-starts.js';
import { countRunsByErrorCode } from '../src/runs/run-stats.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const RUNS = 300;
const TIMEOUT_MS = 600;
/** generous: with 35% of attempts failing, 25 attempts fail together with odds of about 1e-11 */
const RETRY = {
  maxAttempts: 25,
  initialIntervalMs: 10,
  backoffCoefficient: 2,
  maxIntervalMs: 200,
  jitter: 'full' as const,
};
const MIX = { serverError: 0.2, hang: 0.05, reset: 0.1 };

/**
 * Every request of every step and compensation meets the same chaos: 20% answer 5xx, 5% hang past the step's
 * timeout, 10% have their connection destroyed — half of the hangs and resets after the effect was applied, so
 * the response is lost and only the idempotency key keeps the retry from doing it twice. Nothing crashes, so
 * every request must match exactly one recorded attempt, and both engines must have done part of the work.
 */
describe('downstream chaos on every step', () => {
  const random = createRandom(readSeed());
  let scenario: Scenario;
  let faults: FaultCounts;

  beforeAll(async () => {
    scenario = await createScenario();
    const steps = ['a', 'b', 'c'].map((id) => ({
      id,
      compensated: id !== 'c',
      timeoutMs: TIMEOUT_MS,
      retry: RETRY,
      compensationRetry: RETRY,
    }));
    await scenario.register(buildWorkflow('chaos', scenario.downstream.url, steps));
    const chaos = withFaults(random, MIX, (request) => {
      const input = (request.body as { input?: { reject?: boolean } } | null)?.input;
      const reject = request.stepId === 'c' && request.kind === 'action' && input?.reject;
      return { type: 'reply', status: reject ? 400 : 200, delayMs: random.int(0, 30) };
    });
    faults = chaos.counts;
    scenario.downstream.setScript(chaos.script);
    // no crash here, so a long lease: a redelivery could only come from a heartbeat starved by a busy machine
    await Promise.all(['chaos-a', 'chaos-b'].map((id) => scenario.startEngine(id, { ENGINE_LEASE_MS: '10000' })));
  });
  afterAll(async () => {
    await scenario?.close();
  });

  it(
    'ends every run as its business answer says, with one effect per key and one attempt per request',
    { timeout: 150_000 },
    async () => {
      const started = Date.now();
      const rejected = RUNS / 10;
      await startPaced(RUNS, 50, (i) =>
        startRun(scenario.db, {
          workflowName: 'chaos',
          input: { n: i, reject: i % 10 === 3 },
          correlationId: `chaos-${i}`,
        }),
      );
      const drain = await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 90_000, expectedRuns: RUNS });
      const report = await scenario.check({ maxRedeliveries: 0 });
      const errors = await countRunsByErrorCode(scenario.db);
      const keys = new Set(scenario.downstream.requests().map((r) => r.key)).size;
      printFigures({
        ...figuresFromReport('downstream chaos (5xx/hang/reset)', report, drain.elapsedMs),
        extra: {
          requests: report.requests,
          'injected 5xx': faults.serverError,
          hangs: faults.hang,
          resets: faults.reset,
          'lost responses': faults.afterEffect,
          retries: report.attempts - keys,
          statuses: JSON.stringify(report.byStatus),
          seed: random.seed,
        },
      });

      expect(report.violations, formatViolations(report)).toEqual([]);
      expect(report.runs).toBe(RUNS);
      expect(report.duplicateEffects).toBe(0);
      expect(report.byStatus).toEqual({ COMPLETED: RUNS - rejected, COMPENSATED: rejected });
      expect(errors).toEqual({ none: RUNS - rejected, STEP_FAILED: rejected });
      // the chaos really happened, and deduplication absorbed the lost responses
      expect(faults.serverError).toBeGreaterThan(0);
      expect(faults.hang).toBeGreaterThan(0);
      expect(faults.reset).toBeGreaterThan(0);
      expect(report.duplicatesPrevented).toBeGreaterThan(0);
      // both engines shared the outbox: each committed attempts
      for (const engine of scenario.engines) {
        expect(countLogMessages(engine.process, 'step attempt succeeded'), engine.id).toBeGreaterThan(0);
      }
    },
  );
});
