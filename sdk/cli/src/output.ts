import { stripVTControlCharacters } from 'node:util';
import Table from 'cli-table3';
import { createColors } from 'picocolors';
import prettyMs from 'pretty-ms';

export type Colors = ReturnType<typeof createColors>;

/** Where a command writes: stdout for results, stderr for errors and progress; colours only when enabled. */
export interface Output {
  readonly colors: Colors;
  /** The terminal's width (or COLUMNS), for tables; undefined when stdout is not a terminal. */
  readonly width: number | undefined;
  /** One line (a newline is added) on stdout. */
  line(text?: string): void;
  /** One JSON document, indented, on stdout (`--json`). */
  json(value: unknown): void;
  /** One compact JSON line on stdout (NDJSON, `--follow --json`). */
  ndjson(value: unknown): void;
  /** One line on stderr. */
  error(text: string): void;
}

export function createOutput(
  color: boolean,
  width?: number,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr = process.stderr,
): Output {
  return {
    colors: createColors(color),
    width,
    line: (text = '') => void stdout.write(`${text}\n`),
    json: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    ndjson: (value) => void stdout.write(`${JSON.stringify(value)}\n`),
    error: (text) => void stderr.write(`${text}\n`),
  };
}

/**
 * Aligned columns without borders (kubectl style), by cli-table3: its widths ignore colour codes. `head` is
 * printed in bold; rows are arrays of cells, already coloured.
 */
export function renderTable(
  colors: Colors,
  head: string[],
  rows: string[][],
  fit: { width?: number | undefined; keep?: number[] } = {},
): string {
  const blank = { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '' };
  const table = new Table({
    head: head.map((cell) => colors.bold(cell)),
    chars: {
      ...blank,
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    ...(fit.width !== undefined ? { colWidths: fitWidths(head, rows, fit.width, fit.keep ?? []) } : {}),
  });
  table.push(...rows);
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/**
 * Column widths that fit `width` characters (2 between columns): the widest column not in `keep` is narrowed one
 * character at a time (cli-table3 cuts its cells with "…"), down to 6.
 */
function fitWidths(head: string[], rows: string[][], width: number, keep: number[]): number[] {
  const widths = head.map((cell, i) =>
    Math.max(
      stripVTControlCharacters(cell).length,
      ...rows.map((row) => stripVTControlCharacters(row[i] ?? '').length),
    ),
  );
  const total = (): number => widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.length - 1);
  while (total() > width) {
    let widest = -1;
    widths.forEach((w, i) => {
      if (!keep.includes(i) && w > 6 && (widest < 0 || w > widths[widest]!)) widest = i;
    });
    if (widest < 0) break;
    widths[widest]!--;
  }
  return widths;
}

/** A duration for people: 35ms, 1.2s, 3m 5s. */
export function formatDuration(ms: number): string {
  return prettyMs(Math.max(0, ms), ms < 1000 ? {} : { secondsDecimalDigits: ms < 10_000 ? 1 : 0, unitCount: 2 });
}

/** "3m ago" / "in 5s" relative to now, from an ISO 8601 time. */
export function formatRelative(iso: string, now = Date.now()): string {
  const delta = Date.parse(iso) - now;
  const text = prettyMs(Math.abs(delta), { compact: true });
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

/** An ISO time with its relative form: `2026-12-04T05:01:02.123Z (3m ago)`. */
export function formatTime(colors: Colors, iso: string | null, now = Date.now()): string {
  if (iso === null) return colors.dim('-');
  return `${iso} ${colors.dim(`(${formatRelative(iso, now)})`)}`;
}

/** Run, step, compensation and attempt statuses, coloured by what they mean. */
export function colorStatus(colors: Colors, status: string): string {
  switch (status) {
    case 'COMPLETED':
    case 'SUCCEEDED':
      return colors.green(status);
    case 'FAILED':
      return colors.red(status);
    case 'RETRYABLE':
    case 'COMPENSATED':
    case 'COMPENSATING':
    case 'CANCELLING':
      return colors.yellow(status);
    case 'RUNNING':
      return colors.cyan(status);
    case 'CANCELLED':
      return colors.magenta(status);
    default:
      return colors.dim(status);
  }
}

/** A JSON value on one line, cut to `max` characters. */
export function oneLineJson(value: unknown, max = 100): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
