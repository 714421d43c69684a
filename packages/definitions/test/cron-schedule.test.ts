import { describe, expect, it } from 'vitest';
import { describeCronProblem, MAX_COUNTED_MISSED, nextFireTime, planFire } from '../src/cron-schedule.js';

/** Schedules' fire times through croner (docs/contract.md#schedules), DST as croner documents it. */

const at = (iso: string) => new Date(iso);
const isos = (dates: Array<Date | null>) => dates.map((d) => d?.toISOString() ?? null);

/** The first `n` fire times after `from`. */
function fireTimes(cron: string, timezone: string, from: string, n: number): Array<string | null> {
  const times: Array<Date | null> = [];
  let after: Date | null = at(from);
  for (let i = 0; i < n && after; i++) times.push((after = nextFireTime({ cron, timezone }, after)));
  return isos(times);
}

describe('describeCronProblem', () => {
  it('accepts 5 and 6 fields, names and nicknames', () => {
    for (const cron of ['* * * * *', '*/5 * * * * *', '0 9 * * MON-FRI', '0 0 L * *', '@daily', '30 2 * * *']) {
      expect(describeCronProblem({ cron, timezone: 'Europe/Madrid' }), cron).toBeUndefined();
    }
  });

  it('names the cron or the time zone that is wrong', () => {
    expect(describeCronProblem({ cron: 'often', timezone: 'UTC' })).toEqual({
      field: 'cron',
      message: expect.stringMatching(/^cron "often" is invalid: /),
    });
    expect(describeCronProblem({ cron: '* * * * * * *', timezone: 'UTC' })?.message).toMatch(/5 or 6 parts/);
    expect(describeCronProblem({ cron: '0 25 * * *', timezone: 'UTC' })?.message).toMatch(/hour/);
    expect(describeCronProblem({ cron: '2030-01-01T00:00:00', timezone: 'UTC' })?.message).toMatch(
      /a date is not a cron expression/,
    );
    expect(describeCronProblem({ cron: '0 0 31 2 *', timezone: 'UTC' })?.message).toMatch(/never fires/);
    expect(describeCronProblem({ cron: '* * * * *', timezone: 'Europe/Atlantis' })).toEqual({
      field: 'timezone',
      message: expect.stringMatching(/^timezone "Europe\/Atlantis" is not an IANA time zone/),
    });
  });
});

describe('nextFireTime', () => {
  it('is strictly after its reference, to the second (6 fields) or minute (5 fields)', () => {
    expect(fireTimes('* * * * * *', 'UTC', '2026-01-01T00:00:05.000Z', 2)).toEqual([
      '2026-01-01T00:00:06.000Z',
      '2026-01-01T00:00:07.000Z',
    ]);
    expect(fireTimes('* * * * *', 'UTC', '2026-01-01T00:00:05.500Z', 1)).toEqual(['2026-01-01T00:01:00.000Z']);
  });

  it('reads the cron in the time zone', () => {
    // 09:00 in New York: EST (UTC-5) in January, EDT (UTC-4) in July
    expect(fireTimes('0 9 * * *', 'America/New_York', '2026-01-10T00:00:00Z', 1)).toEqual(['2026-01-10T14:00:00.000Z']);
    expect(fireTimes('0 9 * * *', 'America/New_York', '2026-07-10T00:00:00Z', 1)).toEqual(['2026-07-10T13:00:00.000Z']);
  });

  // Europe/Madrid: 2026-03-29 02:00 CET → 03:00 CEST (spring forward); 2026-10-25 03:00 CEST → 02:00 CET (fall back).
  describe('DST in Europe/Madrid (as croner documents: Vixie cron semantics)', () => {
    it('spring forward, fixed-time job: 02:30 does not exist that day and fires at the first valid time after the gap', () => {
      expect(fireTimes('30 2 * * *', 'Europe/Madrid', '2026-03-28T12:00:00Z', 3)).toEqual([
        '2026-03-29T01:00:00.000Z', // 03:00 CEST, the end of the gap
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
        '2026-03-31T00:30:00.000Z',
      ]);
    });

    it('spring forward, interval job: the times inside the gap are skipped', () => {
      expect(fireTimes('*/30 * * * *', 'Europe/Madrid', '2026-03-29T00:15:00Z', 3)).toEqual([
        '2026-03-29T00:30:00.000Z', // 01:30 CET
        '2026-03-29T01:00:00.000Z', // 03:00 CEST: 02:00 and 02:30 never happened
        '2026-03-29T01:30:00.000Z', // 03:30 CEST
      ]);
    });

    it('fall back, fixed-time job: 02:30 happens twice and fires once, at the first occurrence', () => {
      expect(fireTimes('30 2 * * *', 'Europe/Madrid', '2026-10-24T12:00:00Z', 2)).toEqual([
        '2026-10-25T00:30:00.000Z', // 02:30 CEST; not again at 02:30 CET (01:30Z)
        '2026-10-26T01:30:00.000Z', // 02:30 CET
      ]);
    });

    it('fall back, interval job: the repeated hour fires on both passes', () => {
      expect(fireTimes('*/30 * * * *', 'Europe/Madrid', '2026-10-24T23:45:00Z', 5)).toEqual([
        '2026-10-25T00:00:00.000Z', // 02:00 CEST
        '2026-10-25T00:30:00.000Z', // 02:30 CEST
        '2026-10-25T01:00:00.000Z', // 02:00 CET
        '2026-10-25T01:30:00.000Z', // 02:30 CET
        '2026-10-25T02:00:00.000Z', // 03:00 CET
      ]);
    });
  });
});

describe('planFire', () => {
  const everySecond = { cron: '* * * * * *', timezone: 'UTC' };

  it('a late fire time within the catch-up window fires; the next one is planned from it, not from now', () => {
    expect(planFire(everySecond, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:03.2Z'), 10_000)).toEqual({
      fireAt: at('2026-01-01T00:00:00Z'),
      missed: 0,
      next: at('2026-01-01T00:00:01Z'),
    });
  });

  it('older than the window (the engines were down): the most recent fire time fires, the older ones are missed', () => {
    expect(planFire(everySecond, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:20.5Z'), 10_000)).toEqual({
      fireAt: at('2026-01-01T00:00:20Z'),
      missed: 20,
      next: at('2026-01-01T00:00:21Z'),
    });
    const daily = { cron: '0 6 * * *', timezone: 'Europe/Madrid' };
    expect(planFire(daily, at('2026-01-01T05:00:00Z'), at('2026-01-04T04:00:00Z'), 10_000)).toEqual({
      fireAt: at('2026-01-03T05:00:00Z'),
      missed: 2,
      next: at('2026-01-04T05:00:00Z'),
    });
  });

  it('counts at most MAX_COUNTED_MISSED one by one, then jumps to the latest fire time', () => {
    const plan = planFire(everySecond, at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'), 10_000);
    expect(plan).toEqual({
      fireAt: at('2026-01-02T00:00:00Z'),
      missed: MAX_COUNTED_MISSED,
      next: at('2026-01-02T00:00:01Z'),
    });
  });
});
