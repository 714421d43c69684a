import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIGURES_FILE_ENV, type ScenarioFigures } from './figures.js';
import { formatFiguresTable } from './figures-table.js';

/**
 * vitest globalSetup: gives the test workers a file to append each scenario's figures to (through the
 * environment they inherit), and prints them all as one table when the run ends.
 */
export default function setupFigures(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'sagaflow-fault-figures-'));
  const file = join(dir, 'figures.jsonl');
  process.env[FIGURES_FILE_ENV] = file;
  const startedAt = Date.now();
  return () => {
    let rows: ScenarioFigures[] = [];
    try {
      rows = readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as ScenarioFigures);
    } catch {
      // no scenario wrote figures (e.g. only the unit tests ran)
    }
    if (rows.length > 0) {
      const minutes = ((Date.now() - startedAt) / 60_000).toFixed(1);
      process.stdout.write(
        `\nFault-tolerance figures (${rows.length} scenarios, ${minutes} min):\n${formatFiguresTable(rows)}\n\n`,
      );
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
