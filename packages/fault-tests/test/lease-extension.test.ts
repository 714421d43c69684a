import { startRun } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figuresFromReport, printFigures } from '../src/figures/figures.js';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { sampleLeases, summariseLeases, type LeaseSample } from '../src/runs/lease-samples.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const RUNS = 20;
const LEASE_MS = 1_000;
const ANSWER_AFTER_MS = 3_500;

/**
 * A step whose service takes 3.5 s to answer — three and a half leases, well within its 8 s timeout — with two
 * engines polling. The holder's heartbeat must keep extending the lease, so the other engine never takes the
 * item: one holder, one delivery, one request per run.
 */
describe('a slow step keeps its lease', () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(
      buildWorkflow('slow', scenario.downstream.url, [
        { id: 'slow', timeoutMs: 8_000, retry: { maxAttempts: 1 } },
        { id: 'after' },
      ]),
    );
    scenario.downstream.setScript((request) => ({
      type: 'reply',
      status: 200,
      delayMs: request.stepId === 'slow' ? ANSWER_AFTER_MS : 10,
    }));
    const env = { ENGINE_LEASE_MS: String(LEASE_MS) };
    await Promise.all(['lease-a', 'lease-b'].map((id) => scenario.startEngine(id, env)));
  });
  afterAll(async () => {
    await scenario?.close();
  });

  it(
    'extends the lease of an attempt that outlives it instead of letting another engine steal it',
    { timeout: 90_000 },
    async () => {
      const started = Date.now();
      await Promise.all(
        Array.from({ length: RUNS }, (_, i) =>
          startRun(scenario.db, { workflowName: 'slow', input: { n: i }, correlationId: `slow-${i}` }),
        ),
      );
      await waitFor(() => scenario.downstream.inFlight((r) => r.stepId === 'slow').length === RUNS, {
        timeoutMs: 20_000,
        description: 'every slow step in flight',
      });
      const samples: LeaseSample[] = [];
      await waitFor(
        async () => {
          samples.push(...(await sampleLeases(scenario.db)).filter((s) => s.stepIndex === 0));
          return (
            scenario.downstream.requests().filter((r) => r.stepId === 'slow' && r.fate === 'answered').length === RUNS
          );
        },
        { timeoutMs: 20_000, intervalMs: 100, description: 'the slow answers' },
      );
      const drain = await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 30_000, expectedRuns: RUNS });

      const report = await scenario.check({ maxRedeliveries: 0 });
      const leases = [...summariseLeases(samples).values()];
      const owners = new Set(samples.map((s) => s.owner));
      printFigures({
        ...figuresFromReport('slow step: lease extended, not stolen', report, drain.elapsedMs),
        extra: {
          'lease ms': LEASE_MS,
          'answer ms': ANSWER_AFTER_MS,
          'lease samples': samples.length,
          'min extensions per item': Math.min(...leases.map((l) => l.extensions)),
          steals: leases.filter((l) => l.holders > 1).length,
          'engines holding': owners.size,
        },
      });

      expect(report.violations, formatViolations(report)).toEqual([]);
      expect(report.byStatus).toEqual({ COMPLETED: RUNS });
      expect(leases).toHaveLength(RUNS);
      // one holder per item for its whole life, delivered once, its lease pushed out again and again
      expect(leases.every((l) => l.holders === 1)).toBe(true);
      expect(samples.every((s) => s.deliveries === 1)).toBe(true);
      expect(Math.min(...leases.map((l) => l.extensions))).toBeGreaterThanOrEqual(2);
      expect(scenario.downstream.requests().filter((r) => r.stepId === 'slow')).toHaveLength(RUNS);
      expect(report.redeliveries).toBe(0);
    },
  );
});
