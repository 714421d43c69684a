import { createTwoFilesPatch } from 'diff';
import type { Colors } from '../output.js';

/** A JSON value with the keys of every object sorted: two documents that differ only in key order are equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** Canonical pretty JSON: sorted keys, two-space indent, a final newline. */
export const canonicalJson = (value: unknown): string => `${JSON.stringify(canonical(value), null, 2)}\n`;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The paths (`steps[1].request.url`, `description`) where two JSON values differ: added, removed or changed. */
export function changedPaths(before: unknown, after: unknown, path = ''): string[] {
  if (Array.isArray(before) && Array.isArray(after)) {
    const paths: string[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      paths.push(...changedPaths(before[i], after[i], `${path}[${i}]`));
    }
    return paths;
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => changedPaths(before[key], after[key], path ? `${path}.${key}` : key));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [path || '(the whole document)'];
}

export interface DefinitionDiff {
  /** Where the file differs from the registered definition. */
  changedPaths: string[];
  /** A unified diff of the two as canonical pretty JSON (registered → file). */
  diff: string;
}

/** What a file changes in the definition registered under the same name and version. */
export function diffDefinitions(registered: unknown, file: unknown, labels: [string, string]): DefinitionDiff {
  const patch = createTwoFilesPatch(labels[0], labels[1], canonicalJson(registered), canonicalJson(file), '', '', {
    context: 3,
  });
  // the "Index:"/"====" header of jsdiff: only the ---/+++ lines and the hunks are kept
  const diff = patch
    .split('\n')
    .filter((line) => !line.startsWith('Index:') && !/^=+$/.test(line))
    .join('\n')
    .trimEnd();
  return { changedPaths: changedPaths(registered, file), diff };
}

/** A unified diff for a terminal: removals red, additions green, hunk headers cyan. */
export function colorDiff(colors: Colors, diff: string): string {
  return diff
    .split('\n')
    .map((line) => {
      if (line.startsWith('---') || line.startsWith('+++')) return colors.bold(line);
      if (line.startsWith('@@')) return colors.cyan(line);
      if (line.startsWith('-')) return colors.red(line);
      if (line.startsWith('+')) return colors.green(line);
      return line;
    })
    .join('\n');
}
