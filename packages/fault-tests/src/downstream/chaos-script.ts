import type { Random } from '../random.js';
import type { Behaviour, DownstreamRequest, Script } from '@sagaflow/testkit';

/** Probabilities (0..1) of each fault per request; the rest get the business answer. */
export interface FaultMix {
  /** answer 500, 502 or 503 */
  serverError: number;
  /** never answer (the attempt times out) */
  hang: number;
  /** destroy the connection */
  reset: number;
}

/** What a request would get from a healthy service: the business answer. */
export type BusinessAnswer = (request: DownstreamRequest, nth: number) => Behaviour;

export interface FaultCounts {
  serverError: number;
  hang: number;
  reset: number;
  /** faults that struck after the effect was applied (a lost response) */
  afterEffect: number;
}

/**
 * Wraps a business script with random infrastructure faults. A hang or reset strikes before or after the
 * effect with equal odds (after only when the business answer is a success: a rejection has no effect to lose).
 * Pure apart from `random` and the returned counters.
 */
export function withFaults(
  random: Random,
  mix: FaultMix,
  business: BusinessAnswer,
): { script: Script; counts: FaultCounts } {
  const counts: FaultCounts = { serverError: 0, hang: 0, reset: 0, afterEffect: 0 };
  const script: Script = (request, seenForKey) => {
    const answer = business(request, seenForKey);
    const roll = random.next();
    const reply = answer.type === undefined || answer.type === 'reply' ? answer : undefined;
    const succeeds = reply !== undefined && reply.status >= 200 && reply.status < 300;
    const afterEffect = succeeds && random.next() < 0.5;
    const effect = {
      afterEffect,
      ...(reply?.body !== undefined ? { body: reply.body } : {}),
    };
    let fault: Behaviour | undefined;
    if (roll < mix.serverError) {
      counts.serverError++;
      fault = { type: 'unavailable', status: random.pick([500, 502, 503]) };
    } else if (roll < mix.serverError + mix.hang) {
      counts.hang++;
      fault = { type: 'hang', ...effect };
    } else if (roll < mix.serverError + mix.hang + mix.reset) {
      counts.reset++;
      fault = { type: 'reset', delayMs: random.int(0, 20), ...effect };
    }
    if (fault && fault.type !== 'unavailable' && afterEffect) counts.afterEffect++;
    return fault ?? answer;
  };
  return { script, counts };
}
