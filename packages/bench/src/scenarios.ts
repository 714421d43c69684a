/** The four scenarios of the issue "Performance", with their default sizes. */
export type ScenarioName = 'burst' | 'compensation' | 'latency' | 'start-rate';

export const SCENARIO_NAMES: readonly ScenarioName[] = ['burst', 'compensation', 'latency', 'start-rate'];

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

export type Scenario = SagaScenario | StartRateScenario;

/** `runs` overrides N of the saga scenarios (a quick smoke run); the defaults are the issue's. */
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
  }
}
