import { median } from './percentiles.js';
import type { BudgetFigures, ScenarioResult } from './results.js';
import type { TargetCheck } from './targets.js';

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** One line for the progress log. */
export function describeBudget(b: BudgetFigures): string {
  switch (b.kind) {
    case 'events-read':
      return `GET events p50 ${round(b.responseMs.p50, 2)} ms, p99 ${round(b.responseMs.p99, 2)} ms, ${b.requestsPerSecond} requests/s (${b.storedRuns} runs stored)`;
    case 'sse-delay':
      return `SSE delivery p50 ${round(b.delayMs.p50, 2)} ms, p99 ${round(b.delayMs.p99, 2)} ms over ${b.liveEvents} live events`;
    case 'sse-memory':
      return `${b.streams} streams: API RSS +${b.rssMb.growth} MB, heap +${b.heapMb.growth} MB`;
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
  return checks;
}
