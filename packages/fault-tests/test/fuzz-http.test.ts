import { startRun } from '@sagaflow/db';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printFigures } from '../src/figures/figures.js';
import { describeRequest, judgeResponse } from '../src/fuzz/judge-response.js';
import { closeRawConnections, sendRaw } from '../src/fuzz/raw-request.js';
import { fuzzRequest, type FuzzTarget, type FuzzWorld } from '../src/fuzz/request-arbitraries.js';
import { readTableState } from '../src/fuzz/row-counts.js';
import type { ApiProcess } from '../src/processes/api-process.js';
import { readLogRecords } from '../src/processes/log-records.js';
import { readSeed } from '../src/random.js';
import { ADMIN_TOKEN, createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const PER_TARGET = 550;
const TARGETS: readonly FuzzTarget[] = ['start', 'admin', 'retry', 'cancel'];

interface Failure {
  target: FuzzTarget;
  reason: string;
  request: string;
  answer: string;
}

/** Failures grouped by target and reason, with up to three examples each. */
function summarise(failures: readonly Failure[]): string {
  const grouped = new Map<string, Failure[]>();
  for (const failure of failures) {
    const what = `${failure.target}: ${failure.reason}`;
    grouped.set(what, [...(grouped.get(what) ?? []), failure]);
  }
  return [...grouped.entries()]
    .map(
      ([what, list]) =>
        `${list.length}× ${what}\n${list
          .slice(0, 3)
          .map((f) => `    e.g. ${f.request}\n      -> ${f.answer}`)
          .join('\n')}`,
    )
    .join('\n');
}

/**
 * Generated requests — hostile bodies, headers and paths — against start, admin, retry and cancel over real
 * HTTP to an API child process (no engine, so nothing moves but what the API writes). Every answer must be
 * below 500 and carry a JSON `{ code, message }` when it is an error; a rejected request must leave every table
 * exactly as it was; the API must never crash.
 */
describe('HTTP fuzzing of the API', () => {
  const seed = readSeed();
  let scenario: Scenario;
  let api: ApiProcess;
  let world: FuzzWorld;
  let exited = false;

  beforeAll(async () => {
    scenario = await createScenario();
    await scenario.register(
      buildWorkflow('fuzz-flow', scenario.downstream.url, [{ id: 'a', compensated: true }, { id: 'b' }]),
    );
    const runIds = await Promise.all(
      [1, 2, 3, 4].map(
        async (n) =>
          (await startRun(scenario.db, { workflowName: 'fuzz-flow', input: { n }, correlationId: `fuzz-${n}` })).runId,
      ),
    );
    world = { workflow: 'fuzz-flow', runIds, stepId: 'a', adminToken: ADMIN_TOKEN };
    api = await scenario.startApi({ ADMIN_RATE_LIMIT_MAX: '1000000' });
    void api.process.exited.then(() => (exited = true));
  });
  afterAll(async () => {
    closeRawConnections();
    await scenario?.close();
  });

  it(
    `answers ${PER_TARGET * TARGETS.length} generated requests without a 5xx, a crash or a write on rejection`,
    { timeout: 240_000 },
    async () => {
      const started = Date.now();
      const failures: Failure[] = [];
      const statuses: Record<string, number> = {};
      const runsBefore = (await readTableState(scenario.db)).counts['workflow_runs'] ?? 0;
      for (const [i, target] of TARGETS.entries()) {
        for (const request of fc.sample(fuzzRequest(world, target), { numRuns: PER_TARGET, seed: seed + i })) {
          const before = await readTableState(scenario.db);
          const fail = (reason: string, answer: string): void =>
            void failures.push({ target, reason, request: describeRequest(request), answer: answer.slice(0, 200) });
          let response;
          try {
            response = await sendRaw(api.url, request);
          } catch (error) {
            fail(`no answer: ${error instanceof Error ? error.message : String(error)}`, '');
            continue;
          }
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
          const verdict = judgeResponse(request.method, response);
          if (verdict) fail(verdict, response.text);
          if (response.status >= 400) {
            const after = await readTableState(scenario.db);
            if (after.digest !== before.digest)
              fail(
                `rejected with ${response.status} but wrote: ${JSON.stringify(before.counts)} -> ${JSON.stringify(after.counts)}`,
                response.text,
              );
          }
        }
      }
      const health = await fetch(`${api.url}/health`);
      const errorLogs = readLogRecords(api.process).filter((r) => typeof r['level'] === 'number' && r['level'] >= 50);
      const runsAfter = (await readTableState(scenario.db)).counts['workflow_runs'] ?? 0;
      printFigures({
        scenario: 'HTTP fuzz (start/admin/retry/cancel)',
        runs: runsAfter - runsBefore,
        cases: PER_TARGET * TARGETS.length,
        drainSeconds: (Date.now() - started) / 1000,
        redeliveries: 0,
        duplicatesPrevented: 0,
        lostRuns: 0,
        violations: failures.length,
        duplicateEffects: 0,
        extra: {
          statuses: JSON.stringify(statuses),
          '5xx': Object.entries(statuses)
            .filter(([s]) => Number(s) >= 500)
            .reduce((n, [, c]) => n + c, 0),
          'API error logs': errorLogs.length,
          seed,
        },
      });

      const causes = [
        ...new Set(
          errorLogs.map((r) =>
            String((r['err'] as { message?: string } | undefined)?.message ?? r['msg']).slice(0, 160),
          ),
        ),
      ];
      expect(
        failures.length,
        `fuzz seed ${seed}; failures:\n${summarise(failures)}\nAPI error log causes: ${JSON.stringify(causes.slice(0, 5))}`,
      ).toBe(0);
      // the API is still the same process and still answers
      expect(exited).toBe(false);
      expect(health.status).toBe(200);
    },
  );
});
