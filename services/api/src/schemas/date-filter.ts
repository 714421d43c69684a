import { z } from 'zod';

/**
 * A date filter (`createdAfter`, `createdBefore` of run search, counts and bulk operations): an ISO 8601 date-time
 * that Postgres can take as a timestamptz. Postgres refuses the year 0000 as written and a UTC offset past ±15:59
 * ("date/time field value out of range", a 500 if it got there), so both are refused here, with a 400 naming the
 * field: the year as written and the instant in UTC are 0001–9999, the offset at most ±14:00 (as real time zones).
 */

const MIN_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const MAX_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');
const MAX_OFFSET_MINUTES = 14 * 60;
const PARTS = /^(\d{4})-.*?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** Whether a string z.iso.datetime accepted is within what Postgres stores (the year, the offset, the instant). */
function isStorable(text: string): boolean {
  const parts = PARTS.exec(text);
  if (!parts) return false;
  const [, year, sign, hours, minutes] = parts;
  if (Number(year) < 1) return false;
  if (sign && Number(hours) * 60 + Number(minutes) > MAX_OFFSET_MINUTES) return false;
  const instant = Date.parse(text);
  return Number.isFinite(instant) && instant >= MIN_INSTANT && instant <= MAX_INSTANT;
}

export function dateFilterSchema(field: string, description: string) {
  return z.iso
    .datetime({ offset: true })
    .refine(isStorable, {
      message: `${field} must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, with a UTC offset of at most ±14:00`,
      // only a date-time the format check accepted (a malformed one has its own issue)
      when: (payload) => payload.issues.length === 0,
    })
    .meta({ description: `${description}. Years 0001–9999 (UTC), offsets up to ±14:00` });
}
