import { DemoFailure, errorText } from './demo-run.js';

interface Effect {
  idempotencyKey: string | null;
}

/**
 * How many effects a mock service executed under this idempotency key (`GET <service>/__effects`). The mocks
 * deduplicate on X-Idempotency-Key, so an operation delivered twice still counts once.
 */
export async function countEffects(serviceUrl: string, idempotencyKey: string): Promise<number> {
  let response: Response;
  try {
    response = await fetch(`${serviceUrl}/__effects`);
  } catch (error) {
    throw new DemoFailure(`cannot reach the mock service at ${serviceUrl}: ${errorText(error)}`);
  }
  if (!response.ok) throw new DemoFailure(`GET ${serviceUrl}/__effects answered ${response.status}`);
  const { effects } = (await response.json()) as { effects: Effect[] };
  return effects.filter((effect) => effect.idempotencyKey === idempotencyKey).length;
}
