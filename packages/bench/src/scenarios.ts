/**
 * The four scenarios of the issue "Performance" (run by default) and the budget scenarios (SPEC §18: run history,
 * bulk operations; run by name), with their default sizes.
 */
export type ScenarioName =
  | 'burst'
  | 'compensation'
  | 'latency'
  | 'start-rate'
  | 'events-read'
  | 'sse-delay'
  | 'sse-memory'
  | 'history-cost'
  | 'search'
  | 'sleeping-burst'
  | 'bulk-redrive';

export const DEFAULT_SCENARIOS: readonly ScenarioName[] = ['burst', 'compensation', 'latency', 'start-rate'];
export const HISTORY_BUDGET_SCENARIOS: readonly ScenarioName[] = [
  'history-cost',
  'events-read',
  'sse-delay',
  'sse-memory',
];
/** every budget scenario of SPEC §18 (`--scenario budgets`) */
export const BUDGET_SCENARIOS: readonly ScenarioName[] = [
  ...HISTORY_BUDGET_SCENARIOS,
  'search',
  'sleeping-burst',
  'bulk-redrive',
];
export const SCENARIO_NAMES: readonly ScenarioName[] = [...DEFAULT_SCENARIOS, ...BUDGET_SCENARIOS];

export interface SagaScenario {
  kind: 'saga';
  name: Exclude<ScenarioName, 'start-rate'>;
  runs: number;
  submit: { mode: 'closed'; inFlight: number } | { mode: 'open'; perSecond: number };
  /** the downstream answers 422 on this path for this many keys in 1000 */
  reject?: { path: string; permille: number };
  /** submit + all runs terminal must fit in this */
  timeoutMs: number;
}

export interface StartRateScenario {
  kind: 'start-rate';
  name: 'start-rate';
  durationSeconds: number;
  connections: number;
  timeoutMs: number;
}

/** GET /v1/runs/{id}/events (whole history, after=0) of random runs among `storedRuns` completed ones, API only. */
export interface EventsReadScenario {
  kind: 'events-read';
  name: 'events-read';
  /** completed runs (with their six events each) filled in first, unless --history gives another number */
  storedRuns: number;
  requests: number;
  inFlight: number;
  timeoutMs: number;
}

/** Runs offered at `perSecond`, each watched by an SSE stream opened when its start answers: event `at` → arrival. */
export interface SseDelayScenario {
  kind: 'sse-delay';
  name: 'sse-delay';
  runs: number;
  perSecond: number;
  /** each downstream call takes this long, so most of a run's events commit after its stream opened */
  downstreamDelayMs: number;
  timeoutMs: number;
}

/** `streams` SSE streams held open on one API process (runs left PENDING: no engine), memory before / while open. */
export interface SseMemoryScenario {
  kind: 'sse-memory';
  name: 'sse-memory';
  streams: number;
  /** how long all streams stay open (a ping cycle is 15 s) */
  holdMs: number;
  timeoutMs: number;
}

/**
 * `failedRuns` FAILED runs (seeded through the API) redriven by one bulk operation at `ratePerSecond`, while a burst of
 * `burstRuns` bench sagas runs; the same burst measured alone first (SPEC §18, issue #13).
 */
export interface BulkRedriveScenario {
  kind: 'bulk-redrive';
  name: 'bulk-redrive';
  failedRuns: number;
  ratePerSecond: number;
  burstRuns: number;
  timeoutMs: number;
}

/** Three bursts on one stack: history stored, dropped (a trigger on run_events), stored again (SPEC §18). */
export interface HistoryCostScenario {
  kind: 'history-cost';
  name: 'history-cost';
  burstRuns: number;
  timeoutMs: number;
}

/** `pairs` bursts on fresh stacks with none and with `sleepingRuns` runs sleeping for a year (SPEC §18). */
export interface SleepingBurstScenario {
  kind: 'sleeping-burst';
  name: 'sleeping-burst';
  sleepingRuns: number;
  burstRuns: number;
  pairs: number;
  timeoutMs: number;
}

/** GET /v1/runs with each single filter and one-day counts, `requests` each, with `storedRuns` runs (SPEC §18). */
export interface SearchScenario {
  kind: 'search';
  name: 'search';
  storedRuns: number;
  requests: number;
  timeoutMs: number;
}

export type BudgetScenario =
  | EventsReadScenario
  | SseDelayScenario
  | SseMemoryScenario
  | HistoryCostScenario
  | SearchScenario
  | SleepingBurstScenario
  | BulkRedriveScenario;

export type Scenario = SagaScenario | StartRateScenario | BudgetScenario;

/** `runs` overrides N (runs, requests, streams: a quick smoke run); the defaults are the issues'. */
export function buildScenario(name: ScenarioName, runs?: number, startSeconds = 10): Scenario {
  switch (name) {
    case 'burst':
      return { kind: 'saga', name, runs: runs ?? 2000, submit: { mode: 'closed', inFlight: 16 }, timeoutMs: 180_000 };
    case 'compensation':
      return {
        kind: 'saga',
        name,
        runs: runs ?? 500,
        submit: { mode: 'closed', inFlight: 16 },
        reject: { path: '/notify', permille: 100 },
        timeoutMs: 120_000,
      };
    case 'latency':
      return { kind: 'saga', name, runs: runs ?? 300, submit: { mode: 'open', perSecond: 20 }, timeoutMs: 120_000 };
    case 'start-rate':
      return {
        kind: 'start-rate',
        name,
        durationSeconds: startSeconds,
        connections: 16,
        timeoutMs: 60_000 + startSeconds * 1000,
      };
    case 'events-read':
      return { kind: name, name, storedRuns: 1_000_000, requests: runs ?? 5000, inFlight: 4, timeoutMs: 300_000 };
    case 'sse-delay':
      return { kind: name, name, runs: runs ?? 300, perSecond: 20, downstreamDelayMs: 50, timeoutMs: 120_000 };
    case 'sse-memory':
      return { kind: name, name, streams: runs ?? 500, holdMs: 20_000, timeoutMs: 180_000 };
    case 'history-cost':
      return { kind: name, name, burstRuns: runs ?? 2000, timeoutMs: 300_000 };
    case 'search':
      return { kind: name, name, storedRuns: 1_000_000, requests: runs ?? 200, timeoutMs: 600_000 };
    case 'sleeping-burst':
      return { kind: name, name, sleepingRuns: runs ?? 100_000, burstRuns: 2000, pairs: 3, timeoutMs: 180_000 };
    case 'bulk-redrive':
      return { kind: name, name, failedRuns: runs ?? 10_000, ratePerSecond: 1000, burstRuns: 3000, timeoutMs: 300_000 };
  }
}
