/**
 * Keeps log lines small: each field of a log record gets a budget of about `maxChars` characters of JSON
 * (2 KiB by default). Strings past the budget are cut with a note of how much was cut; objects and arrays keep
 * their first entries and say how many more there were. Pure: returns a copy, and walks only what it keeps, so a
 * 1 MiB body costs no more than a 2 KiB one. Errors, Dates and other non-plain objects are left to pino.
 */

export const LOG_FIELD_MAX_CHARS = 2048;

interface Budget {
  left: number;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function capString(value: string, budget: Budget): string {
  if (value.length + 2 <= budget.left) {
    budget.left -= value.length + 2;
    return value;
  }
  const kept = Math.max(0, budget.left - 2);
  budget.left = 0;
  return `${value.slice(0, kept)}…[${value.length - kept} more chars]`;
}

function capValue(value: unknown, budget: Budget): unknown {
  if (typeof value === 'string') return capString(value, budget);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      if (budget.left <= 0) {
        out.push(`…[${value.length - i} more items]`);
        break;
      }
      budget.left -= 1;
      out.push(capValue(value[i], budget));
    }
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (budget.left <= 0) {
        out['…'] = `[${keys.length - i} more keys]`;
        break;
      }
      budget.left -= key.length + 4;
      out[key] = capValue(value[key], budget);
    }
    return out;
  }
  if (typeof value === 'number' || typeof value === 'boolean') budget.left -= String(value).length;
  return value;
}

/** A copy of `record` in which every field fits in about `maxChars` characters of JSON. */
export function capLogRecord<T extends Record<string, unknown>>(record: T, maxChars = LOG_FIELD_MAX_CHARS): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) out[key] = capValue(record[key], { left: maxChars });
  return out as T;
}
