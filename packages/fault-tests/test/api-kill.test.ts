import { createClient } from '@sagaflow/client';
import { waitFor } from '@sagaflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figuresFromReport, printFigures } from '../src/figures/figures.js';
import { formatViolations } from '../src/invariants/check-invariants.js';
import type { ApiProcess } from '../src/processes/api-process.js';
import { startPaced } from '../src/runs/paced-starts.js';
import { startWithRetry, type StartOutcome } from '../src/runs/start-with-retry.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const STARTS = 300;
const KILL_AFTER_ANSWERS = 60;

/**
 * A burst of 300 starts, each with its own idempotency key, against an API child process that is kill -9'd
 * once 60 have been answered (so requests are in flight at every stage) and started again on a new port.
 * Every client then retries its start, also the ones that already had their 202: each key must map to
 * exactly one run, the same one every client was told about.
 */
describe('kill -9 of the API during a burst of starts', () => {
  let scenario: Scenario;
  let api: ApiProcess;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(buildWorkflow('burst', scenario.downstream.url, [{ id: 'one' }, { id: 'two' }]));
    await scenario.startEngine('burst-engine');
    api = await scenario.startApi();
  });
  afterAll(async () => {
    await scenario?.close();
  });

  it('makes exactly one run per idempotency key across the crash and the retries', { timeout: 150_000 }, async () => {
    let client = createClient({ baseUrl: api.url });
    const started = Date.now();
    let answered = 0;
    let killedAt = 0;
    let restartedAt = 0;
    const crash = (async () => {
      await waitFor(() => answered >= KILL_AFTER_ANSWERS, {
        timeoutMs: 30_000,
        intervalMs: 1,
        description: `${KILL_AFTER_ANSWERS} answered starts`,
      });
      killedAt = Date.now();
      await api.process.kill('SIGKILL');
      api = await scenario.startApi();
      client = createClient({ baseUrl: api.url });
      restartedAt = Date.now();
    })();
    const first = await startPaced(STARTS, 150, async (i) => {
      const outcome = await startWithRetry({
        client: () => client,
        workflow: 'burst',
        input: { n: i },
        idempotencyKey: `burst-${i}`,
        timeoutMs: 30_000,
      });
      answered++;
      return outcome;
    });
    await crash;
    // every client retries, also those that already had their 202
    const again = await Promise.all(
      first.map((o, i) =>
        startWithRetry({
          client: () => client,
          workflow: 'burst',
          input: { n: i },
          idempotencyKey: o.key,
          timeoutMs: 30_000,
        }),
      ),
    );
    const drain = await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 60_000, expectedRuns: STARTS });

    const promised = [...first, ...again].flatMap((o) => (o.runId ? [o.runId] : []));
    const report = await scenario.check({ maxRedeliveries: 0, promisedRunIds: promised });
    const rows = await scenario.db.selectFrom('workflow_runs').select(['id', 'idempotency_key']).execute();
    const failedDuringCrash = first.filter((o) => o.failures.length > 0);
    const connectionFailures = first.flatMap((o: StartOutcome) => o.failures).filter((f) => f === 'connection').length;
    printFigures({
      ...figuresFromReport('API kill -9 during a start burst', report, drain.elapsedMs),
      recoverySeconds: (restartedAt - killedAt) / 1000,
      extra: {
        starts: STARTS * 2,
        'clients that had to retry': failedDuringCrash.length,
        'connection failures': connectionFailures,
        'runs per key': rows.length / new Set(rows.map((r) => r.idempotency_key)).size,
        statuses: JSON.stringify(report.byStatus),
      },
    });

    expect(report.violations, formatViolations(report)).toEqual([]);
    expect(rows).toHaveLength(STARTS);
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(STARTS);
    const runIdByKey = new Map(rows.map((r) => [r.idempotency_key, r.id]));
    // everyone got a 202 in the end, and both answers for a key name the run that exists for it
    for (const [i, outcome] of first.entries()) {
      expect(outcome.runId, `${outcome.key}: ${outcome.failures.join(',')}`).toBe(runIdByKey.get(outcome.key));
      expect(again[i]!.runId).toBe(outcome.runId);
    }
    expect(report.byStatus).toEqual({ COMPLETED: STARTS });
    // the crash did cut some starts off
    expect(failedDuringCrash.length).toBeGreaterThan(0);
    expect(first.flatMap((o) => o.failures).filter((f) => f !== 'connection')).toEqual([]);
  });
});
