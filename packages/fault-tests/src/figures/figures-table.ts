import type { ScenarioFigures } from './figures.js';

const COLUMNS: Array<[string, (f: ScenarioFigures) => string]> = [
  ['scenario', (f) => f.scenario],
  ['runs', (f) => String(f.runs)],
  ['fuzz cases', (f) => (f.cases === undefined ? '–' : String(f.cases))],
  ['drain s', (f) => f.drainSeconds.toFixed(1)],
  ['redeliveries', (f) => String(f.redeliveries)],
  ['dup. prevented', (f) => String(f.duplicatesPrevented)],
  ['recovery s', (f) => (f.recoverySeconds === undefined ? '–' : f.recoverySeconds.toFixed(1))],
  ['lost', (f) => String(f.lostRuns)],
  ['violations', (f) => String(f.violations)],
  ['dup. effects', (f) => String(f.duplicateEffects)],
];

/** The figures of every scenario as a Markdown table (what docs/delivery.md quotes). */
export function formatFiguresTable(rows: readonly ScenarioFigures[]): string {
  const header = `| ${COLUMNS.map(([name]) => name).join(' | ')} |`;
  const rule = `|${COLUMNS.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`;
  const body = rows.map((row) => `| ${COLUMNS.map(([, cell]) => cell(row)).join(' | ')} |`);
  return [header, rule, ...body].join('\n');
}
