import { median } from './percentiles.js';
import type { BudgetFigures, ScenarioResult } from './results.js';
import type { TargetCheck } from './targets.js';

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** A change in percent with its sign: −31 %, +5 %. */
const signedPercent = (n: number): string => `${n < 0 ? '−' : '+'}${Math.abs(n)} %`;

/** One line for the progress log. */
export function describeBudget(b: BudgetFigures): string {
  switch (b.kind) {
    case 'events-read':
      return `GET events p50 ${round(b.responseMs.p50, 2)} ms, p99 ${round(b.responseMs.p99, 2)} ms, ${b.requestsPerSecond} requests/s (${b.storedRuns} runs stored)`;
    case 'sse-delay':
      return `SSE delivery p50 ${round(b.delayMs.p50, 2)} ms, p99 ${round(b.delayMs.p99, 2)} ms over ${b.liveEvents} live events`;
    case 'sse-memory':
      return `${b.streams} streams: API RSS +${b.rssMb.growth} MB, heap +${b.heapMb.growth} MB`;
    case 'history-cost':
      return `history costs ${b.costPercent} % of burst (steps/s stored ${b.onStepsPerSecond.join(', ')}; dropped ${b.offStepsPerSecond.join(', ')}), write transactions/step ${b.writeTransactionsPerStep.on} vs ${b.writeTransactionsPerStep.off}`;
    case 'search': {
      const worst = [...b.queries].sort((x, y) => y.p99 / y.budgetMs - x.p99 / x.budgetMs)[0];
      return `${b.queries.length} queries, ${b.requests} requests each (${b.storedRuns} runs stored): worst p99 against its budget ${worst ? `${worst.endpoint} ${worst.query} ${worst.p99} ms (≤ ${worst.budgetMs})` : '–'}`;
    }
    case 'sleeping-burst':
      return `burst with ${b.sleepingRuns} sleeping ${b.changePercent} % (steps/s alone ${b.aloneStepsPerSecond.join(', ')}; with ${b.withStepsPerSecond.join(', ')}), engine peak RSS MB alone ${b.engineRssMb.alone.join(', ')}; with ${b.engineRssMb.with.join(', ')}`;
    case 'bulk-redrive':
      return `redrive of ${b.failedRuns} at ${b.ratePerSecond}/s: ${round(b.operationMs / 1000, 2)} s; burst ${b.duringStepsPerSecond} steps/s with it vs ${b.aloneStepsPerSecond} alone (${signedPercent(-b.burstDropPercent)})`;
  }
}

type Of<K extends BudgetFigures['kind']> = Extract<BudgetFigures, { kind: K }>;

function budgetsOf<K extends BudgetFigures['kind']>(results: readonly ScenarioResult[], kind: K): Of<K>[] {
  return results.filter((r) => r.ok && r.budget?.kind === kind).map((r) => r.budget as Of<K>);
}

const med = <T>(rows: readonly T[], pick: (row: T) => number, digits = 1): number =>
  round(median(rows.map(pick)), digits);

/** The run history budgets of SPEC §18 against the medians of the budget scenarios' successful iterations. */
export function checkBudgets(results: readonly ScenarioResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const costs = budgetsOf(results, 'history-cost');
  if (costs.length) {
    const cost = med(costs, (b) => b.costPercent);
    const on = med(costs, (b) => b.writeTransactionsPerStep.on, 3);
    const off = med(costs, (b) => b.writeTransactionsPerStep.off, 3);
    checks.push({
      target: 'history costs ≤ 10 % of burst throughput',
      measured: `${cost} % (stored ${med(costs, (b) => median(b.onStepsPerSecond))} vs dropped ${med(costs, (b) => median(b.offStepsPerSecond))} steps/s, ${costs.length} iterations)`,
      met: cost <= 10,
    });
    checks.push({
      target: 'history adds no commit to a step (write transactions per step)',
      // heartbeats and registry refreshes of the services also take transaction ids: a margin of 0.02 per step
      measured: `${on} stored vs ${off} dropped`,
      met: on <= off + 0.02,
    });
  }
  const reads = budgetsOf(results, 'events-read');
  if (reads.length) {
    const p99 = med(reads, (b) => b.responseMs.p99, 2);
    checks.push({
      target: `GET /v1/runs/{id}/events p99 ≤ 50 ms (${reads[0]!.storedRuns} runs stored)`,
      measured: `${p99} ms (p50 ${med(reads, (b) => b.responseMs.p50, 2)}, ${med(reads, (b) => b.requestsPerSecond)} requests/s, ${reads.length} iterations)`,
      met: p99 <= 50,
    });
  }
  const delays = budgetsOf(results, 'sse-delay');
  if (delays.length) {
    const p99 = med(delays, (b) => b.delayMs.p99, 2);
    checks.push({
      target: 'SSE delivers an event ≤ 100 ms after its commit (p99)',
      measured: `${p99} ms (p50 ${med(delays, (b) => b.delayMs.p50, 2)}, ${med(delays, (b) => b.liveEvents, 0)} live events, ${delays.length} iterations)`,
      met: p99 <= 100,
    });
  }
  const memory = budgetsOf(results, 'sse-memory');
  if (memory.length) {
    const growth = med(memory, (b) => b.rssMb.growth);
    checks.push({
      target: `${memory[0]!.streams} open SSE streams on one API ≤ 100 MB`,
      measured: `RSS +${growth} MB (heap +${med(memory, (b) => b.heapMb.growth)} MB, ${memory.length} iterations)`,
      met: growth <= 100,
    });
  }
  const searches = budgetsOf(results, 'search');
  if (searches.length) {
    // one check per query: the median over the iterations of its p99
    for (const { query, endpoint, budgetMs } of searches[0]!.queries) {
      const rows = searches.flatMap((b) => b.queries.filter((r) => r.endpoint === endpoint && r.query === query));
      const p99 = med(rows, (r) => r.p99);
      checks.push({
        target: `GET ${endpoint}, ${query}: p99 ≤ ${budgetMs} ms (${searches[0]!.storedRuns} runs stored)`,
        measured: `${p99} ms (p50 ${med(rows, (r) => r.p50)}, ${rows.length} iterations)`,
        met: p99 <= budgetMs,
      });
    }
  }
  const sleeping = budgetsOf(results, 'sleeping-burst');
  if (sleeping.length) {
    const change = med(sleeping, (b) => b.changePercent);
    checks.push({
      target: `${sleeping[0]!.sleepingRuns} sleeping runs leave burst throughput unchanged (± 10 %)`,
      measured: `${change} % (${med(sleeping, (b) => median(b.withStepsPerSecond))} vs ${med(sleeping, (b) => median(b.aloneStepsPerSecond))} steps/s alone; engine peak RSS ${med(sleeping, (b) => median(b.engineRssMb.with))} vs ${med(sleeping, (b) => median(b.engineRssMb.alone))} MB; ${sleeping.length} iterations)`,
      met: Math.abs(change) <= 10,
    });
  }
  const redrives = budgetsOf(results, 'bulk-redrive');
  if (redrives.length) {
    const seconds = med(redrives, (b) => b.operationMs / 1000, 2);
    const drop = med(redrives, (b) => b.burstDropPercent);
    const first = redrives[0]!;
    checks.push({
      target: `bulk redrive of ${first.failedRuns} runs at ${first.ratePerSecond}/s ≤ 15 s`,
      measured: `${seconds} s (${redrives.length} iterations)`,
      met: seconds <= 15,
    });
    checks.push({
      target: 'burst steps/s during that redrive ≥ 80 % of the burst alone',
      measured: `${med(redrives, (b) => b.duringStepsPerSecond)} vs ${med(redrives, (b) => b.aloneStepsPerSecond)} steps/s (${signedPercent(-drop)})`,
      met: drop <= 20,
    });
  }
  return checks;
}
