import { prettyFactory } from 'pino-pretty';

const COLORS = [36, 32, 35, 33, 34, 31]; // cyan, green, magenta, yellow, blue, red

export type LineWriter = (line: string) => void;

/**
 * Returns a writer that prints a child's output line to this terminal, prefixed with its name;
 * pino JSON lines are pretty-printed (pino-pretty), anything else is printed as is.
 */
export function createPrefixedWriter(name: string, index: number, width: number): LineWriter {
  const colorize = Boolean(process.stdout.isTTY);
  const pretty = prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  const label = name.padEnd(width);
  const prefix = colorize ? `\u001b[${COLORS[index % COLORS.length]}m${label} │\u001b[0m ` : `${label} │ `;
  return (line) => {
    const text = formatLine(line, pretty).replace(/\n$/, '');
    process.stdout.write(
      `${text
        .split('\n')
        .map((part) => prefix + part)
        .join('\n')}\n`,
    );
  };
}

function formatLine(line: string, pretty: (input: object) => string): string {
  if (!line.startsWith('{')) return line;
  try {
    const parsed: unknown = JSON.parse(line);
    return parsed !== null && typeof parsed === 'object' && 'level' in parsed ? pretty(parsed) : line;
  } catch {
    return line;
  }
}
