import { loadavg } from 'node:os';
import { diffCpu, otherLoad } from '../cpu-delta.js';
import type { BudgetFigures, ScenarioResult } from '../results.js';
import type { ScenarioContext } from '../scenario-context.js';
import type { BudgetScenario } from '../scenarios.js';
import type { CpuSample, ServiceStack } from '../service-stack.js';
import type { FreshStack } from './fresh-stack.js';

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** What a budget scenario samples before its measurement: the load, CPU and the time, for its result. */
export interface BudgetWindow {
  loadAverage: number[];
  cpuBefore: CpuSample;
  startedMs: number;
}

export async function openBudgetWindow(stack: ServiceStack): Promise<BudgetWindow> {
  return {
    loadAverage: loadavg().map((n) => round(n, 2)),
    cpuBefore: await stack.cpu(),
    startedMs: performance.now(),
  };
}

/**
 * A budget scenario's result: its own figures in `budget`, the common fields (CPU, other load, peak RSS) as the saga
 * scenarios have them; `units` are requests, live events or streams; no Postgres counters (not what these measure).
 */
export async function budgetResult(
  ctx: ScenarioContext,
  spec: BudgetScenario,
  run: FreshStack,
  window: BudgetWindow,
  figures: { units: number; runs: number; budget: BudgetFigures; problems: string[]; warnings?: string[] },
): Promise<ScenarioResult> {
  const { stack } = run;
  const cpu = diffCpu(window.cpuBefore, await stack.cpu());
  const windowMs = performance.now() - window.startedMs;
  return {
    scenario: spec.name,
    iteration: ctx.iteration,
    engines: stack.engines.length,
    ok: figures.problems.length === 0,
    problems: figures.problems,
    warnings: figures.warnings ?? [],
    startedAt: run.startedAt,
    ...(run.history ? { history: run.history } : {}),
    loadAverage: window.loadAverage,
    unit: 'step',
    runs: figures.runs,
    units: figures.units,
    windowMs: round(windowMs),
    runsPerSecond: round((figures.runs / windowMs) * 1000),
    unitsPerSecond: round((figures.units / windowMs) * 1000),
    outcomes: {},
    peakRssMb: {
      api: (await stack.api.memory()).peakRssMb,
      engines: await Promise.all(stack.engines.map(async (e) => (await e.memory()).peakRssMb)),
    },
    cpuSeconds: cpu,
    otherLoad: otherLoad(cpu),
    postgres: {
      server: `${ctx.server.kind} (Postgres ${ctx.server.version})`,
      commits: Number.NaN,
      commitsPerUnit: Number.NaN,
      rollbacks: Number.NaN,
    },
    budget: figures.budget,
    logDir: run.logDir,
  };
}

/** Reads gauges of the API's /metrics (Prometheus text): the value of each named series without labels. */
export async function readApiGauges<Name extends string>(
  apiUrl: string,
  names: readonly Name[],
): Promise<Record<Name, number>> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const values = {} as Record<Name, number>;
  for (const name of names) values[name] = Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return values;
}
