import type { ScenarioMedians } from './summary-table.js';

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

/** The reference targets of the issue "Performance" against the medians (undefined: the scenario was not run). */
export function checkTargets(rows: readonly ScenarioMedians[]): TargetCheck[] {
  const row = (name: string): ScenarioMedians | undefined => rows.find((r) => r.scenario === name);
  const burst = row('burst');
  const latency = row('latency');
  const compensation = row('compensation');
  const start = row('start-rate');
  const sagas = rows.filter((r) => r.unit === 'step');
  const check = (target: string, value: number | undefined, ok: (v: number) => boolean, unit: string): TargetCheck => ({
    target,
    measured: value === undefined || !Number.isFinite(value) ? 'not measured' : `${value} ${unit}`,
    met: value === undefined || !Number.isFinite(value) ? undefined : ok(value),
  });
  const worstCommits = sagas.length ? Math.max(...sagas.map((r) => r.commitsPerUnit)) : undefined;
  return [
    check('burst ≥ 2,000 steps/s', burst?.unitsPerSecond, (v) => v >= 2000, 'steps/s'),
    check('latency p50 ≤ 6 ms (whole 3-step run)', latency?.p50, (v) => v <= 6, 'ms'),
    check('latency p99 ≤ 12 ms', latency?.p99, (v) => v <= 12, 'ms'),
    check(
      'compensation at least as fast per step as burst',
      compensation && burst ? compensation.unitsPerSecond : undefined,
      (v) => v >= (burst?.unitsPerSecond ?? Infinity),
      `steps/s (burst ${burst?.unitsPerSecond ?? '–'})`,
    ),
    check('start endpoint ≥ 2,500 starts/s', start?.runsPerSecond, (v) => v >= 2500, 'starts/s'),
    check('start endpoint p99 ≤ 20 ms', start?.p99, (v) => v <= 20, 'ms'),
    check('≤ 1.5 Postgres commits per step (worst saga scenario)', worstCommits, (v) => v <= 1.5, 'commits/step'),
    check('engine RSS ≤ 150 MB under burst', burst?.enginePeakRssMb, (v) => v <= 150, 'MB'),
  ];
}

export function formatTargets(checks: readonly TargetCheck[]): string {
  return [
    '| target | measured (median) | met |',
    '|---|---:|---|',
    ...checks.map((c) => `| ${c.target} | ${c.measured} | ${c.met === undefined ? '–' : c.met ? 'yes' : 'no'} |`),
  ].join('\n');
}
