import { describe, expect, it } from 'vitest';
import { checkBudgets } from '../src/budget-table.js';
import type { BudgetFigures, ScenarioResult } from '../src/results.js';

/** A successful budget scenario result: only what checkBudgets reads. */
const result = (budget: BudgetFigures, ok = true): ScenarioResult =>
  ({ scenario: budget.kind, ok, budget }) as unknown as ScenarioResult;

const historyCost = (on: number[], off: number, tx: { on: number; off: number }): BudgetFigures => ({
  kind: 'history-cost',
  burstRuns: 2000,
  onStepsPerSecond: on,
  offStepsPerSecond: [off],
  costPercent: Math.round((1 - on.reduce((a, b) => a + b, 0) / on.length / off) * 1000) / 10,
  writeTransactionsPerStep: tx,
});

const sleepingBurst = (alone: number[], withSleeping: number[], changePercent: number): BudgetFigures => ({
  kind: 'sleeping-burst',
  sleepingRuns: 100_000,
  burstRuns: 2000,
  aloneStepsPerSecond: alone,
  withStepsPerSecond: withSleeping,
  changePercent,
  engineRssMb: { alone: alone.map(() => 118), with: withSleeping.map(() => 119) },
});

describe('checkBudgets: history cost (SPEC §18)', () => {
  it('is met at ≤ 10 % of burst throughput with no more write transactions per step than without history', () => {
    const checks = checkBudgets([result(historyCost([2700, 2720], 2900, { on: 0.076, off: 0.072 }))]);
    expect(checks).toHaveLength(2);
    expect(checks[0]).toMatchObject({ target: 'history costs ≤ 10 % of burst throughput', met: true });
    expect(checks[0]!.measured).toContain('6.6 %');
    expect(checks[1]).toMatchObject({ met: true, measured: '0.076 stored vs 0.072 dropped' });
  });

  it('is not met when history costs more than 10 % or adds a write transaction to a step', () => {
    const checks = checkBudgets([result(historyCost([2000, 2100], 2500, { on: 1.07, off: 0.07 }))]);
    expect(checks.map((c) => c.met)).toEqual([false, false]);
  });

  it('takes the median of the iterations and leaves failed iterations out', () => {
    const checks = checkBudgets([
      result(historyCost([2000], 2500, { on: 0.07, off: 0.07 })),
      result(historyCost([2900], 3000, { on: 0.07, off: 0.07 })),
      result(historyCost([2950], 3000, { on: 0.07, off: 0.07 })),
      result(historyCost([100], 3000, { on: 0.07, off: 0.07 }), false),
    ]);
    expect(checks[0]).toMatchObject({ met: true });
    expect(checks[0]!.measured).toContain('3.3 %');
    expect(checks[0]!.measured).toContain('3 iterations');
  });
});

describe('checkBudgets: 100,000 sleeping runs against a burst (SPEC §18)', () => {
  it('is met within ± 10 % either way, not beyond', () => {
    expect(checkBudgets([result(sleepingBurst([2500, 2600], [2450], -3.9))])[0]).toMatchObject({
      target: '100000 sleeping runs leave burst throughput unchanged (± 10 %)',
      met: true,
    });
    expect(checkBudgets([result(sleepingBurst([2500, 2600], [2810], 10.2))])[0]!.met).toBe(false);
    expect(checkBudgets([result(sleepingBurst([2500, 2600], [2200], -13.7))])[0]!.met).toBe(false);
  });

  it('says nothing when the scenario did not run', () => {
    expect(checkBudgets([])).toEqual([]);
  });
});

describe('checkBudgets: run search with 1 M runs (SPEC §18)', () => {
  const search = (queries: Array<[string, number, number]>): BudgetFigures => ({
    kind: 'search',
    storedRuns: 1_000_000,
    requests: 200,
    queries: queries.map(([query, budgetMs, p99]) => ({
      query,
      endpoint: budgetMs === 200 ? ('/v1/runs/counts' as const) : ('/v1/runs' as const),
      budgetMs,
      p50: p99 / 4,
      p99,
      max: p99 * 2,
      meanResults: 50,
    })),
  });

  it('checks each query against its own budget, on the median over the iterations', () => {
    const checks = checkBudgets([
      result(
        search([
          ['status=FAILED', 50, 12],
          ['one day', 200, 150],
        ]),
      ),
      result(
        search([
          ['status=FAILED', 50, 60],
          ['one day', 200, 250],
        ]),
      ),
      result(
        search([
          ['status=FAILED', 50, 14],
          ['one day', 200, 180],
        ]),
      ),
    ]);
    expect(checks).toEqual([
      expect.objectContaining({
        target: 'GET /v1/runs, status=FAILED: p99 ≤ 50 ms (1000000 runs stored)',
        measured: expect.stringContaining('14 ms') as unknown,
        met: true,
      }),
      expect.objectContaining({
        target: 'GET /v1/runs/counts, one day: p99 ≤ 200 ms (1000000 runs stored)',
        met: true,
      }),
    ]);
  });

  it('is not met when a query is over its budget', () => {
    const checks = checkBudgets([result(search([['idempotencyKey', 50, 51]]))]);
    expect(checks[0]!.met).toBe(false);
  });
});

describe('checkBudgets: bulk redrive (SPEC §18, issue #13)', () => {
  const redrive = (alone: number, during: number, operationMs: number): BudgetFigures => ({
    kind: 'bulk-redrive',
    failedRuns: 10_000,
    ratePerSecond: 1000,
    seedMs: 9000,
    operationMs,
    redriven: 10_000,
    skipped: 0,
    failed: 0,
    burstRuns: 3000,
    aloneStepsPerSecond: alone,
    duringStepsPerSecond: during,
    burstDropPercent: Math.round((1 - during / alone) * 1000) / 10,
    overlapPercent: 100,
  });

  it('prints the burst change with its sign, and allows a drop of at most 20 %', () => {
    const [time, lower] = checkBudgets([result(redrive(2000, 1400, 12_000))]);
    expect(time).toMatchObject({ met: true, measured: '12 s (1 iterations)' });
    expect(lower).toMatchObject({ met: false, measured: '1400 vs 2000 steps/s (−30 %)' });
    const [, higher] = checkBudgets([result(redrive(1500, 1950, 16_000))]);
    expect(higher).toMatchObject({ met: true, measured: '1950 vs 1500 steps/s (+30 %)' });
  });
});
