import { Cron } from 'croner';

/**
 * Cron expressions and time zones of schedules (docs/contract.md#schedules), all through croner: parsing, IANA time
 * zones and DST. A 5-field expression has minute precision (seconds 0), a 6-field one starts with seconds; croner's
 * nicknames (`@daily`, `@hourly`, …) are accepted, a one-off date is not. Day-of-month and day-of-week combine with OR
 * (Vixie cron; `+` before the day of week for AND). DST follows croner: a fixed-time job (one value in each of
 * seconds, minutes, hours, e.g. `30 2 * * *`) in a spring-forward gap fires at the first valid time after it and once
 * on a repeated hour; an interval job (`*`, step, list or range there) skips times in the gap and fires on both
 * occurrences of a repeated time.
 */

export interface CronSpec {
  cron: string;
  /** IANA time zone, e.g. `Europe/Madrid` */
  timezone: string;
}

export interface CronProblem {
  field: 'cron' | 'timezone';
  message: string;
}

const CRON_OPTIONS = { mode: '5-or-6-parts', paused: true, domAndDow: false } as const;

/** Parsed expressions by time zone and text; bounded (schedules are few, and a parse is cheap). */
const parsed = new Map<string, Cron>();
const MAX_PARSED = 1_000;

function cronOf(spec: CronSpec): Cron {
  const key = `${spec.timezone}\u0000${spec.cron}`;
  let cron = parsed.get(key);
  if (!cron) {
    cron = new Cron(spec.cron, { ...CRON_OPTIONS, timezone: spec.timezone });
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(key, cron);
  }
  return cron;
}

/** croner's messages start with the class that threw ("CronPattern: …"). */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Cron\w*:\s*/, '');
}

/** Why a cron expression or time zone cannot be used (the field is named), or undefined when both are good. */
export function describeCronProblem(spec: CronSpec, now: Date = new Date()): CronProblem | undefined {
  try {
    // a pattern croner certainly accepts: any error is the zone's
    new Cron('* * * * *', { ...CRON_OPTIONS, timezone: spec.timezone }).nextRun(now);
  } catch {
    return {
      field: 'timezone',
      message: `timezone ${JSON.stringify(spec.timezone)} is not an IANA time zone (e.g. "Europe/Madrid", "UTC")`,
    };
  }
  let cron: Cron;
  try {
    cron = new Cron(spec.cron, { ...CRON_OPTIONS, timezone: spec.timezone });
  } catch (error) {
    return { field: 'cron', message: `cron ${JSON.stringify(spec.cron)} is invalid: ${reason(error)}` };
  }
  if (cron.getOnce() !== null) {
    return {
      field: 'cron',
      message: `cron ${JSON.stringify(spec.cron)} is invalid: a date is not a cron expression (use 5 or 6 fields)`,
    };
  }
  if (cron.nextRun(now) === null) {
    return { field: 'cron', message: `cron ${JSON.stringify(spec.cron)} never fires after ${now.toISOString()}` };
  }
  return undefined;
}

/** The first fire time strictly after `after`, or null when the expression has none. */
export function nextFireTime(spec: CronSpec, after: Date): Date | null {
  return cronOf(spec).nextRun(after);
}

export interface FirePlan {
  /** the fire time to start a run for */
  fireAt: Date;
  /** earlier fire times, from `due` on, that passed while no engine ran and are skipped */
  missed: number;
  /** the fire time after `fireAt` (null: none) */
  next: Date | null;
}

/** Fire times counted one by one when catching up an outage; past it, the count stops (croner jumps to the latest). */
export const MAX_COUNTED_MISSED = 1_000;

/**
 * What to do with a schedule whose fire time `due` has come (`due` <= `now`). A fire time at most `catchUpMs` old is
 * late, not missed: it fires (the next one, if also due, is planned in the next call), so an engine that fell a few
 * seconds behind leaves no gap. When `due` is older than that, the engines were down: the most recent fire time at or
 * before `now` fires once and the older ones are missed.
 */
export function planFire(spec: CronSpec, due: Date, now: Date, catchUpMs: number): FirePlan {
  const cron = cronOf(spec);
  if (now.getTime() - due.getTime() <= catchUpMs) return { fireAt: due, missed: 0, next: cron.nextRun(due) };
  let fireAt = due;
  let missed = 0;
  for (;;) {
    const following = cron.nextRun(fireAt);
    if (!following || following > now) break;
    if (missed >= MAX_COUNTED_MISSED) {
      // previousRuns excludes its reference: 1 ms past now includes a fire time exactly at now
      const latest = cron.previousRuns(1, new Date(now.getTime() + 1))[0];
      if (latest && latest > fireAt) fireAt = latest;
      break;
    }
    missed++;
    fireAt = following;
  }
  return { fireAt, missed, next: cron.nextRun(fireAt) };
}
