import type { Random } from '../random.js';

export interface PlannedKill {
  /** ms after the schedule starts */
  offsetMs: number;
  /** index into the list of victims */
  victim: number;
}

/** One kill at a random moment inside each `everyMs` slot for `forMs`, of a random one of `victims`. Pure. */
export function planKills(random: Random, options: { everyMs: number; forMs: number; victims: number }): PlannedKill[] {
  const kills: PlannedKill[] = [];
  for (let slot = 0; slot + options.everyMs <= options.forMs; slot += options.everyMs) {
    kills.push({ offsetMs: slot + random.int(0, options.everyMs - 1), victim: random.int(0, options.victims - 1) });
  }
  return kills;
}
