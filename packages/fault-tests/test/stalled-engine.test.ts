import { startRun } from '@sagaflow/db';
import { waitFor } from '@sagaflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figuresFromReport, printFigures } from '../src/figures/figures.js';
import { formatViolations } from '../src/invariants/check-invariants.js';
import { loadSnapshot } from '../src/invariants/load-snapshot.js';
import { countLogMessages, readLogRecords } from '../src/processes/log-records.js';
import { sampleLeases } from '../src/runs/lease-samples.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const RUNS = 10;
const LEASE_MS = 1_500;

/**
 * A stalled worker: engine A is frozen with SIGSTOP while its ten attempts are in flight. The service answers
 * them anyway (the effects happen; the answers wait in A's socket buffers). A's leases run out, engine B takes
 * the items over and finishes the runs — the deduplicating service answers B's redeliveries from its store.
 * Then A is thawed with SIGCONT and reads its late answers: every one of its completions must fail the lease
 * check and commit nothing.
 */
describe('a stalled engine whose leases expired', () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(
      buildWorkflow('stall', scenario.downstream.url, [{ id: 'first', timeoutMs: 60_000 }, { id: 'second' }]),
    );
    scenario.downstream.setScript((request) => ({
      type: 'reply',
      status: 200,
      delayMs: request.stepId === 'first' ? 800 : 10,
    }));
  });
  afterAll(async () => {
    await scenario?.close();
  });

  it(
    'lets another engine take over and fences out the late results of the thawed one',
    { timeout: 90_000 },
    async () => {
      const env = { ENGINE_LEASE_MS: String(LEASE_MS) };
      const engineA = await scenario.startEngine('stall-a', env);
      const started = Date.now();
      await Promise.all(
        Array.from({ length: RUNS }, (_, i) =>
          startRun(scenario.db, { workflowName: 'stall', input: { n: i }, correlationId: `stall-${i}` }),
        ),
      );
      await waitFor(() => scenario.downstream.inFlight((r) => r.stepId === 'first').length === RUNS, {
        timeoutMs: 20_000,
        description: 'A to send every first step',
      });

      process.kill(engineA.process.pid, 'SIGSTOP');
      const stoppedAt = Date.now();
      try {
        // the leases A holds, as its last heartbeat left them
        await waitFor(() => scenario.downstream.requests().filter((r) => r.fate === 'answered').length === RUNS, {
          timeoutMs: 10_000,
          description: 'the service to answer A',
        });
        const leaseEnd = Math.max(...(await sampleLeases(scenario.db)).map((s) => s.dueAt));
        await scenario.startEngine('stall-b', env);
        await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 30_000, expectedRuns: RUNS });
        const takeovers = scenario.downstream.requests().filter((r) => r.stepId === 'first' && r.seq > RUNS);
        expect(takeovers).toHaveLength(RUNS);
        // B took nothing before the leases had run out
        expect(Math.min(...takeovers.map((r) => r.arrivedAt))).toBeGreaterThanOrEqual(leaseEnd - 50);
      } finally {
        process.kill(engineA.process.pid, 'SIGCONT');
      }
      const thawedAt = Date.now();
      const before = await loadSnapshot(scenario.db);
      await waitFor(() => countLogMessages(engineA.process, 'lease lost') === RUNS, {
        timeoutMs: 15_000,
        description: 'A to report its ten lost leases',
      });
      const after = await loadSnapshot(scenario.db);
      const drainMs = Math.max(...after.runs.map((r) => r.completedAt ?? Infinity)) - started;

      const report = await scenario.check({ maxRedeliveries: RUNS });
      const takeovers = scenario.downstream.requests().filter((r) => r.stepId === 'first' && r.seq > RUNS);
      printFigures({
        ...figuresFromReport('stalled engine (SIGSTOP past its lease)', report, drainMs),
        recoverySeconds: (Math.max(...takeovers.map((r) => r.arrivedAt)) - stoppedAt) / 1000,
        extra: {
          'stalled s': ((thawedAt - stoppedAt) / 1000).toFixed(1),
          'late results fenced': countLogMessages(engineA.process, 'lease lost'),
          'late results committed': countLogMessages(engineA.process, 'step attempt succeeded'),
        },
      });

      expect(report.violations, formatViolations(report)).toEqual([]);
      expect(report.byStatus).toEqual({ COMPLETED: RUNS });
      // A's late results changed nothing: same attempts, same runs, same steps
      expect(after).toEqual(before);
      expect(after.attempts).toHaveLength(RUNS * 2);
      expect(countLogMessages(engineA.process, 'step attempt succeeded')).toBe(0);
      // each lost lease is logged with the run, step and item it was about
      const lost = readLogRecords(engineA.process).filter(
        (r) => typeof r['msg'] === 'string' && r['msg'].startsWith('lease lost'),
      );
      expect(new Set(lost.map((r) => r['runId'])).size).toBe(RUNS);
      for (const record of lost)
        expect(record).toMatchObject({ stepId: 'first', runId: expect.any(String), outboxId: expect.any(String) });
      expect(report.redeliveries).toBe(RUNS);
      expect(report.duplicatesPrevented).toBe(RUNS);
    },
  );
});
