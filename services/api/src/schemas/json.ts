import { z } from 'zod';

/** True when a string or key anywhere in `value` holds U+0000, which Postgres jsonb cannot store. */
export function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([key, item]) => key.includes('\u0000') || containsNul(item));
  }
  return false;
}

export const NUL_MESSAGE = 'must not contain the NUL character (\\u0000)';

/** A JSON object the database can store: bad input is a 400 here rather than a 500 from Postgres. */
export const jsonObjectSchema = z
  .record(z.string(), z.unknown())
  .refine((value) => !containsNul(value), { message: NUL_MESSAGE });
