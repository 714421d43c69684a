/** Defensive readers for request bodies of unknown shape: they never throw. */

export type JsonRecord = Record<string, unknown>;

/** Returns the value when it is a plain JSON object (not an array, not null), else undefined. */
export function readRecord(value: unknown): JsonRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as JsonRecord;
}

/** Follows `keys` through nested objects; undefined as soon as a level is not an object. */
export function readPath(value: unknown, ...keys: string[]): unknown {
  let current: unknown = value;
  for (const key of keys) {
    const record = readRecord(current);
    if (!record || !Object.hasOwn(record, key)) return undefined;
    current = record[key];
  }
  return current;
}

/** A non-empty string at `keys`, else undefined. */
export function readString(value: unknown, ...keys: string[]): string | undefined {
  const found = readPath(value, ...keys);
  return typeof found === 'string' && found.length > 0 ? found : undefined;
}

/** The first defined value among the candidates, or null. */
export function pickFirst(...candidates: unknown[]): unknown {
  for (const candidate of candidates) {
    if (candidate !== undefined && candidate !== null) return candidate;
  }
  return null;
}

/** A header value as one string (the first one when repeated), else undefined. */
export function readHeader(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const raw = headers[name.toLowerCase()];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value !== undefined && value.length > 0 ? value : undefined;
}
