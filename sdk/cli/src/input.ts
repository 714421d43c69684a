import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

/** The text of a file, or of stdin for `-`; a missing file is a usage error. */
export function readText(path: string, what: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new UsageError(`${what}: cannot read ${path === '-' ? 'stdin' : path} (${reason})`);
  }
}

/** JSON text, or a usage error naming where it came from. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${what}: invalid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * The value of a `--input`/`--context` flag: inline JSON, or `@file` (`@-` for stdin). It must be a JSON object,
 * as the API requires.
 */
export function readJsonObject(value: string, flag: string): Record<string, unknown> {
  const text = value.startsWith('@') ? readText(value.slice(1), flag) : value;
  const parsed = parseJson(text, flag);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(
      `${flag}: expected a JSON object, got ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** A positive whole number of seconds from a flag. */
export function parseSeconds(value: string, flag: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`${flag}: expected a positive number of seconds, got "${value}"`);
  return seconds;
}
