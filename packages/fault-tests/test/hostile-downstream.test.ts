import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startRun } from '@sagaflow/db';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE_CASES, hostileAnswer, type HostileCase } from '../src/downstream/hostile-answers.js';
import { startHostileDownstream, type HostileDownstream } from '../src/downstream/hostile-downstream.js';
import { figuresFromReport, printFigures } from '../src/figures/figures.js';
import { checkInvariants, formatViolations } from '../src/invariants/check-invariants.js';
import { createRandom, readSeed, type Random } from '../src/random.js';
import { startPaced } from '../src/runs/paced-starts.js';
import { countRunsByErrorCode } from '../src/runs/run-stats.js';
import { waitUntilAllTerminal } from '../src/runs/wait-terminal.js';
import { createScenario, type Scenario } from '../src/scenario.js';
import { buildWorkflow } from '../src/workflows.js';

const RUNS = 300;
/**
 * Long enough that a busy machine does not turn a slow connect (a dropped SYN is resent after 1 s, then 3 s) into a
 * lost answer; each never-ending body costs this much.
 */
const TIMEOUT_MS = 5_000;
const RETRY = {
  maxAttempts: 25,
  initialIntervalMs: 10,
  backoffCoefficient: 2,
  maxIntervalMs: 200,
  jitter: 'full' as const,
};

/** Odds of each answer: a healthy answer most of the time, every hostile case often enough to be seen many times. */
const WEIGHTS: Record<HostileCase, number> = {
  ok: 35,
  unavailable: 8,
  'unavailable-binary': 4,
  'nul-escape-json': 6,
  'nul-bytes-text': 6,
  binary: 6,
  'invalid-utf8-json': 6,
  'lone-surrogate-json': 6,
  'informational-only': 5,
  'status-600-999': 5,
  'endless-body': 4,
  'huge-headers': 7,
};

function pickCase(random: Random): HostileCase {
  const total = HOSTILE_CASES.reduce((sum, c) => sum + WEIGHTS[c], 0);
  let roll = random.next() * total;
  for (const c of HOSTILE_CASES) {
    roll -= WEIGHTS[c];
    if (roll < 0) return c;
  }
  return 'ok';
}

/**
 * Every request of every action and compensation gets a random answer from a hostile downstream: binary and NUL
 * bodies, invalid UTF-8, lone surrogates in JSON, a 1xx with no final answer, statuses 600–999, a body that never
 * ends, hundreds of KiB of headers, and plain 2xx/5xx. Nothing crashes, so every attempt must be sent exactly once
 * (0 redeliveries), get exactly the outcome docs/contract.md#downstream-requests gives its answer, and every run must end.
 */
describe('hostile downstream answers on every step', () => {
  const random = createRandom(readSeed());
  let scenario: Scenario;
  let downstream: HostileDownstream;

  beforeAll(async () => {
    scenario = await createScenario();
    downstream = await startHostileDownstream();
    downstream.setScript((request) => hostileAnswer(pickCase(random), request.key, request.seq, random));
    const steps = ['a', 'b', 'c'].map((id) => ({
      id,
      compensated: id !== 'c',
      timeoutMs: TIMEOUT_MS,
      retry: RETRY,
      compensationRetry: RETRY,
    }));
    await scenario.register(buildWorkflow('hostile', downstream.url, steps));
    await Promise.all(['hostile-a', 'hostile-b'].map((id) => scenario.startEngine(id, { ENGINE_LEASE_MS: '10000' })));
  });
  afterAll(async () => {
    await scenario?.close();
    await downstream?.close();
  });

  it(
    'gives every answer one recorded outcome, never redelivers, and ends every run',
    { timeout: 150_000 },
    async () => {
      const lag = monitorEventLoopDelay();
      lag.enable();
      const started = Date.now();
      await startPaced(RUNS, 25, (i) =>
        startRun(scenario.db, { workflowName: 'hostile', input: { n: i }, correlationId: `hostile-${i}` }),
      );
      const drain = await waitUntilAllTerminal(scenario.db, { since: started, timeoutMs: 100_000, expectedRuns: RUNS });
      lag.disable();
      const requests = downstream.requests();
      const report = await checkInvariants(scenario.db, {
        requests,
        effects: downstream.effects(),
        maxRedeliveries: 0,
      });
      const errors = await countRunsByErrorCode(scenario.db);

      // every (key, attempt number) reached the downstream exactly once
      const perAttempt = new Map<string, number>();
      for (const r of requests)
        perAttempt.set(`${r.key}#${r.attempt}`, (perAttempt.get(`${r.key}#${r.attempt}`) ?? 0) + 1);
      const resent = [...perAttempt.entries()].filter(([, n]) => n > 1);

      // each answer got the outcome docs/contract.md#downstream-requests gives it
      const { rows } = await sql<{ key: string; attempt_no: number; outcome: string }>`
      select case a.kind when 'action' then a.run_id || ':' || s.step_id else a.run_id || ':' || s.step_id || ':compensate' end as key,
             a.attempt_no, a.outcome
        from step_attempts a join run_steps s on s.run_id = a.run_id and s.step_index = a.step_index
    `.execute(scenario.db);
      const outcomes = new Map(rows.map((r) => [`${r.key}#${r.attempt_no}`, r.outcome]));
      const allowed: Record<string, string[]> = {
        effect: ['SUCCEEDED'],
        replay: ['SUCCEEDED'],
        refused: ['FAILED'],
        unavailable: ['RETRYABLE', 'FAILED'],
        lost: ['RETRYABLE', 'FAILED'],
      };
      const wrong = requests
        .map((r) => ({ r, outcome: outcomes.get(`${r.key}#${r.attempt}`) }))
        .filter(({ r, outcome }) => !allowed[r.sent]?.includes(outcome ?? 'none'))
        .map(
          ({ r, outcome }) => `${r.key}#${r.attempt} answered ${r.answer} (${r.sent}) recorded ${outcome ?? 'nothing'}`,
        );

      const byCase = Object.fromEntries(HOSTILE_CASES.map((c) => [c, requests.filter((r) => r.answer === c).length]));
      printFigures({
        ...figuresFromReport('hostile downstream answers', report, drain.elapsedMs),
        extra: {
          requests: report.requests,
          'answers by case': JSON.stringify(byCase),
          statuses: JSON.stringify(report.byStatus),
          errors: JSON.stringify(errors),
          'resent attempts': resent.length,
          connections: downstream.connections(),
          'downstream loop lag max ms': Math.round(lag.max / 1e6),
          seed: random.seed,
        },
      });

      expect(report.violations, formatViolations(report)).toEqual([]);
      expect(report.runs).toBe(RUNS);
      expect(report.lostRuns).toBe(0);
      expect(report.redeliveries).toBe(0);
      expect(report.duplicateEffects).toBe(0);
      expect(resent).toEqual([]);
      expect(wrong.slice(0, 10)).toEqual([]);
      expect(errors['DELIVERY_EXHAUSTED'] ?? 0).toBe(0);
      for (const c of HOSTILE_CASES) expect(byCase[c], c).toBeGreaterThan(0);
    },
  );
});
