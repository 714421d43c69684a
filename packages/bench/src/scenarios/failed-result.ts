import type { ScenarioResult } from '../results.js';
import type { ScenarioContext } from '../scenario-context.js';
import type { ScenarioName } from '../scenarios.js';

/** The result of a scenario that could not finish (timeout, a service that did not start): no figures, one problem. */
export function failedResult(
  ctx: ScenarioContext,
  scenario: ScenarioName,
  startedAt: string,
  logDir: string,
  problem: string,
): ScenarioResult {
  return {
    scenario,
    iteration: ctx.iteration,
    engines: ctx.engines,
    ok: false,
    problems: [problem],
    warnings: [],
    startedAt,
    loadAverage: [],
    unit: scenario === 'start-rate' ? 'start' : 'step',
    runs: 0,
    units: 0,
    windowMs: Number.NaN,
    runsPerSecond: Number.NaN,
    unitsPerSecond: Number.NaN,
    outcomes: {},
    peakRssMb: { api: Number.NaN, engines: [] },
    cpuSeconds: {
      api: Number.NaN,
      engines: [],
      downstream: Number.NaN,
      postgres: Number.NaN,
      bench: Number.NaN,
      machineBusy: Number.NaN,
      machineTotal: Number.NaN,
    },
    otherLoad: Number.NaN,
    postgres: {
      server: `${ctx.server.kind} (Postgres ${ctx.server.version})`,
      commits: Number.NaN,
      commitsPerUnit: Number.NaN,
      rollbacks: Number.NaN,
    },
    logDir,
  };
}
