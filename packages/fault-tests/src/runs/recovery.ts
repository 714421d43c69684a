import type { DownstreamRequest } from '@sagaflow/testkit';

/**
 * Recovery after kills: for every request a killed engine abandoned, how long after the kill the same
 * idempotency key arrived again (another engine took the item over). Returns the longest such gap in ms,
 * or undefined when no kill hit an attempt in flight. Pure.
 */
export function measureRecoveryMs(
  requests: readonly DownstreamRequest[],
  kills: ReadonlyArray<{ at: number }>,
): number | undefined {
  let worst: number | undefined;
  for (const kill of kills) {
    const orphaned = requests.filter(
      (r) =>
        r.abandonedAt !== undefined && r.abandonedAt >= kill.at && r.abandonedAt - kill.at < 1_000 && r.fate !== 'hung',
    );
    for (const request of orphaned) {
      const next = requests.find((r) => r.key === request.key && r.seq > request.seq);
      if (!next) continue;
      const gap = next.arrivedAt - kill.at;
      if (worst === undefined || gap > worst) worst = gap;
    }
  }
  return worst;
}
