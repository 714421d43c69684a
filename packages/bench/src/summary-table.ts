import { median } from './percentiles.js';
import type { ScenarioResult } from './results.js';
import type { ScenarioName } from './scenarios.js';

/** The medians of one scenario over its iterations: the row of the summary table. */
export interface ScenarioMedians {
  scenario: ScenarioName;
  engines: number;
  iterations: number;
  ok: number;
  runs: number;
  runsPerSecond: number;
  unitsPerSecond: number;
  unit: 'step' | 'start';
  /** saga: created_at → completed_at; start-rate: autocannon's response time (p95 column holds p97.5) */
  p50: number;
  p95: number;
  p99: number;
  enginePeakRssMb: number;
  apiPeakRssMb: number;
  /** the same peaks within the measured window only (the warm-up's left out); NaN where not measured */
  engineWindowPeakRssMb: number;
  apiWindowPeakRssMb: number;
  commitsPerUnit: number;
  statementsPerUnit: number;
  /** CPU seconds per 1000 units, by process */
  cpuPer1000: { api: number; engines: number; downstream: number; postgres: number; bench: number };
  /** share of the machine's cores busy with the bench's processes during the window */
  cpuUtilisation: number;
  /** share of the cores busy with other work meanwhile */
  otherLoad: number;
  /** units/s the machine's cores could carry if only the bench's processes ran: cores / CPU seconds per unit */
  cpuCeiling: number;
}

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;
const sum = (values: readonly number[]): number => values.reduce((total, v) => total + v, 0);

export function computeMedians(results: readonly ScenarioResult[], cores: number): ScenarioMedians[] {
  const names = [...new Set(results.map((r) => r.scenario))];
  return names.map((scenario) => {
    const rows = results.filter((r) => r.scenario === scenario);
    const m = (pick: (r: ScenarioResult) => number | undefined, digits = 1): number =>
      round(median(rows.map((r) => pick(r) ?? Number.NaN)), digits);
    const per1000 = (pick: (r: ScenarioResult) => number): number => m((r) => (pick(r) / r.units) * 1000, 2);
    const start = scenario === 'start-rate';
    return {
      scenario,
      engines: rows[0]?.engines ?? 0,
      iterations: rows.length,
      ok: rows.filter((r) => r.ok).length,
      runs: m((r) => r.runs, 0),
      runsPerSecond: m((r) => r.runsPerSecond),
      unitsPerSecond: m((r) => r.unitsPerSecond),
      unit: rows[0]?.unit ?? 'step',
      p50: m((r) => (start ? r.autocannon?.p50 : r.latencyMs?.p50), 2),
      p95: m((r) => (start ? r.autocannon?.p97_5 : r.latencyMs?.p95), 2),
      p99: m((r) => (start ? r.autocannon?.p99 : r.latencyMs?.p99), 2),
      enginePeakRssMb: m((r) => (r.peakRssMb.engines.length ? Math.max(...r.peakRssMb.engines) : undefined)),
      apiPeakRssMb: m((r) => r.peakRssMb.api),
      engineWindowPeakRssMb: m((r) => {
        const engines = r.windowPeakRssMb?.engines ?? [];
        return engines.length ? Math.max(...engines) : undefined;
      }),
      apiWindowPeakRssMb: m((r) => r.windowPeakRssMb?.api),
      commitsPerUnit: m((r) => r.postgres.commitsPerUnit, 3),
      statementsPerUnit: m((r) => r.postgres.statementsPerUnit, 3),
      cpuPer1000: {
        api: per1000((r) => r.cpuSeconds.api),
        engines: per1000((r) => sum(r.cpuSeconds.engines)),
        downstream: per1000((r) => r.cpuSeconds.downstream),
        postgres: per1000((r) => r.cpuSeconds.postgres),
        bench: per1000((r) => r.cpuSeconds.bench),
      },
      cpuUtilisation: m((r) => {
        const c = r.cpuSeconds;
        return (c.api + sum(c.engines) + c.downstream + c.postgres + c.bench) / (r.windowMs / 1000) / cores;
      }, 2),
      otherLoad: m((r) => r.otherLoad, 2),
      cpuCeiling: m((r) => {
        const c = r.cpuSeconds;
        return (cores * r.units) / (c.api + sum(c.engines) + c.downstream + c.postgres + c.bench);
      }, 0),
    };
  });
}

const show = (n: number): string => (Number.isFinite(n) ? String(n) : '–');
const percent = (n: number): string => (Number.isFinite(n) ? `${Math.round(n * 100)} %` : '–');

export function formatSummaryTable(rows: readonly ScenarioMedians[]): string {
  const lines = [
    '| scenario | engines | runs | runs/s | steps/s | p50 ms | p95 ms | p99 ms | engine peak RSS MB (window) | API peak RSS MB (window) | commits/step | statements/step | ok |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const start = r.unit === 'start';
    lines.push(
      `| ${r.scenario} | ${r.engines} | ${show(r.runs)} | ${show(r.runsPerSecond)} | ${start ? '–' : show(r.unitsPerSecond)} | ${show(r.p50)} | ${show(r.p95)}${start ? '†' : ''} | ${show(r.p99)} | ${show(r.enginePeakRssMb)} (${show(r.engineWindowPeakRssMb)}) | ${show(r.apiPeakRssMb)} (${show(r.apiWindowPeakRssMb)}) | ${show(r.commitsPerUnit)}${start ? '‡' : ''} | ${show(r.statementsPerUnit)}${start ? '‡' : ''} | ${r.ok}/${r.iterations} |`,
    );
  }
  lines.push(
    '',
    'Medians over the iterations. Latency: `workflow_runs.created_at` → `completed_at` of each run (both Postgres clock).',
    "Peak RSS: VmHWM over the process's life, warm-up included; in parentheses, the peak within the measured window only.",
    'start-rate: autocannon response time of the start request; † p97.5 (autocannon reports no p95); ‡ per start, not per step.',
  );
  return lines.join('\n');
}

export function formatCpuTable(rows: readonly ScenarioMedians[], cores: number): string {
  const lines = [
    `| scenario | CPU s per 1000 units: API | engines | downstream | Postgres | bench client | share of ${cores} cores busy: bench's processes | other work | CPU-bound ceiling, units/s |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} (${r.unit}s) | ${show(r.cpuPer1000.api)} | ${show(r.cpuPer1000.engines)} | ${show(r.cpuPer1000.downstream)} | ${show(r.cpuPer1000.postgres)} | ${show(r.cpuPer1000.bench)} | ${percent(r.cpuUtilisation)} | ${percent(r.otherLoad)} | ${show(r.cpuCeiling)} |`,
    ),
    '',
    `CPU-bound ceiling: ${cores} cores ÷ the CPU seconds all of the bench's processes spent per unit — the rate if nothing else ran on the machine (other work skews the measured rates, much less this).`,
  ];
  return lines.join('\n');
}
