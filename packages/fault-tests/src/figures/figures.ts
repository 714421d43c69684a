import { appendFileSync } from 'node:fs';
import type { InvariantReport } from '../invariants/types.js';

/** What a scenario measured, printed as one line and collected for the end-of-run table. */
export interface ScenarioFigures {
  scenario: string;
  runs: number;
  /** generated cases a fuzz scenario sent (requests or definitions) */
  cases?: number;
  /** seconds from the first start until every run was terminal */
  drainSeconds: number;
  redeliveries: number;
  duplicatesPrevented: number;
  /** seconds the system needed to resume after the fault, when the scenario has one */
  recoverySeconds?: number;
  lostRuns: number;
  violations: number;
  /** steps or compensations whose effect was applied more than once (a key that changed between deliveries) */
  duplicateEffects: number;
  /** scenario-specific figures */
  extra?: Record<string, string | number>;
}

export const FIGURES_FILE_ENV = 'SAGAFLOW_FAULT_FIGURES_FILE';

const seconds = (value: number | undefined): string => (value === undefined ? '–' : `${value.toFixed(1)} s`);

/** The common figures from an invariant report. */
export function figuresFromReport(scenario: string, report: InvariantReport, drainMs: number): ScenarioFigures {
  return {
    scenario,
    runs: report.runs,
    drainSeconds: drainMs / 1000,
    redeliveries: report.redeliveries,
    duplicatesPrevented: report.duplicatesPrevented,
    lostRuns: report.lostRuns,
    violations: report.violations.length,
    duplicateEffects: report.duplicateEffects,
  };
}

export function formatFigures(f: ScenarioFigures): string {
  const extra = Object.entries(f.extra ?? {}).map(([k, v]) => `${k} ${v}`);
  return [
    `[faults] ${f.scenario}`,
    `runs ${f.runs}`,
    ...(f.cases === undefined ? [] : [`cases ${f.cases}`]),
    `drain ${seconds(f.drainSeconds)}`,
    `redeliveries ${f.redeliveries}`,
    `duplicates prevented ${f.duplicatesPrevented}`,
    `recovery ${seconds(f.recoverySeconds)}`,
    `lost ${f.lostRuns}`,
    `violations ${f.violations}`,
    `duplicate effects ${f.duplicateEffects}`,
    ...extra,
  ].join(' | ');
}

/** Prints the scenario's line and appends it to the run's figures file (read by the global teardown). */
export function printFigures(figures: ScenarioFigures): void {
  process.stdout.write(`${formatFigures(figures)}\n`);
  const file = process.env[FIGURES_FILE_ENV];
  if (file) appendFileSync(file, `${JSON.stringify(figures)}\n`);
}
