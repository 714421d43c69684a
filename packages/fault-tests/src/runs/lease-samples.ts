import type { Db } from '@sagaflow/db';

/** One look at a live outbox item's lease. */
export interface LeaseSample {
  runId: string;
  stepIndex: number;
  owner: string | null;
  token: string | null;
  deliveries: number;
  /** epoch ms: the lease end while leased */
  dueAt: number;
}

/** The leases of every live (READY) item right now. */
export async function sampleLeases(db: Db): Promise<LeaseSample[]> {
  const rows = await db
    .selectFrom('outbox')
    .select(['run_id', 'step_index', 'lease_owner', 'lease_token', 'deliveries', 'due_at'])
    .where('status', '=', 'READY')
    .execute();
  return rows.map((r) => ({
    runId: r.run_id,
    stepIndex: r.step_index,
    owner: r.lease_owner,
    token: r.lease_token,
    deliveries: r.deliveries,
    dueAt: r.due_at.getTime(),
  }));
}

export interface LeaseHistory {
  /** distinct (owner, token, deliveries) holders the item had while sampled */
  holders: number;
  /** how many times the lease end moved later while the same holder kept it */
  extensions: number;
}

/** Per run and step: how many holders an item had and how often its lease was extended. Pure. */
export function summariseLeases(samples: readonly LeaseSample[]): Map<string, LeaseHistory> {
  const byItem = new Map<string, LeaseSample[]>();
  for (const sample of samples) {
    if (sample.owner === null) continue;
    const key = `${sample.runId}#${sample.stepIndex}`;
    byItem.set(key, [...(byItem.get(key) ?? []), sample]);
  }
  const summary = new Map<string, LeaseHistory>();
  for (const [key, list] of byItem) {
    const holders = new Set(list.map((s) => `${s.owner}/${s.token}/${s.deliveries}`)).size;
    let extensions = 0;
    for (let i = 1; i < list.length; i++) if (list[i]!.dueAt > list[i - 1]!.dueAt) extensions++;
    summary.set(key, { holders, extensions });
  }
  return summary;
}
