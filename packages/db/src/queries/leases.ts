import { sql } from 'kysely';
import type { Db } from '../pool.js';

export interface HeldLease {
  id: string;
  leaseToken: string;
}

/**
 * Heartbeat: pushes the lease of items still held by this token to now + leaseMs. Returns the ids still held. Locks the
 * rows in run order, as a batched completion does, so the two never wait on each other in a cycle.
 */
export async function extendLeases(db: Db, leases: readonly HeldLease[], leaseMs: number): Promise<string[]> {
  if (leases.length === 0) return [];
  const { rows } = await sql<{ id: string }>`
    with held as (
      select o.id
        from outbox o
        join unnest(${leases.map((l) => l.id)}::bigint[], ${leases.map((l) => l.leaseToken)}::uuid[]) as h(id, token)
          on o.id = h.id and o.lease_token = h.token
       where o.status = 'READY'
       order by o.run_id
         for update of o
    )
    update outbox o
       set due_at = now() + ${leaseMs} * interval '1 millisecond'
      from held
     where o.id = held.id
    returning o.id::text as id
  `.execute(db);
  return rows.map((r) => r.id);
}

/** Hands items back unworked (shutdown): due now, unleased, and the delivery does not count against poison protection. */
export async function releaseLeases(db: Db, leases: readonly HeldLease[]): Promise<number> {
  if (leases.length === 0) return 0;
  const { rows } = await sql<{ id: string }>`
    update outbox o
       set due_at = now(), lease_owner = null, lease_token = null, deliveries = greatest(o.deliveries - 1, 0)
      from unnest(${leases.map((l) => l.id)}::bigint[], ${leases.map((l) => l.leaseToken)}::uuid[]) as held(id, token)
     where o.id = held.id and o.lease_token = held.token and o.status = 'READY'
    returning o.id::text as id
  `.execute(db);
  return rows.length;
}

/** Readiness: throws when Postgres cannot answer. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

/**
 * Hands back every item leased to `owner` except those of the runs it is working on (`heldRunIds`): what was handed to
 * an engine while its LISTEN connection was down (docs/architecture.md#the-first-step-handed-to-an-engine). By run,
 * not by lease token: a completion may just have carried a held run on to its next item under a new token. Returns the
 * ids released.
 */
export async function releaseUnheldLeases(db: Db, owner: string, heldRunIds: readonly string[]): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    update outbox o
       set due_at = now(), lease_owner = null, lease_token = null, deliveries = greatest(o.deliveries - 1, 0)
     where o.lease_owner = ${owner} and o.status = 'READY' and o.run_id <> all(${heldRunIds}::uuid[])
    returning o.id::text as id
  `.execute(db);
  return rows.map((r) => r.id);
}
