import type { Behaviour, Script } from './types.js';

/** Turns a fixed queue into a script: one behaviour per call, the last one repeating. */
export function queueScript(behaviours: Behaviour[]): Script {
  if (behaviours.length === 0) throw new Error('a behaviour queue needs at least one entry');
  const queue = [...behaviours];
  return () => (queue.length > 1 ? queue.shift()! : queue[0]!);
}

/** Answers `statuses[nth - 1]` per idempotency key (the last status repeats): `statusesByAttempt(503, 503, 200)`. */
export function statusesByAttempt(...statuses: number[]): Script {
  return (request, nth) => {
    const status = statuses[Math.min(nth, statuses.length) - 1]!;
    return { status, body: status < 300 ? { ok: true, path: request.path, nth } : { error: `scripted ${status}` } };
  };
}
