import { sql } from 'kysely';
import type { Db } from '../pool.js';

/**
 * Who waits for run history (table `event_listeners`, docs/architecture.md#history-notifications-only-when-someone-waits).
 * An API instance keeps a row here while it has requests waiting for a run's next event; statements that append
 * history NOTIFY the events channel only while some row is fresh (eventsAwaited in channels.ts).
 */

/** Inserts or refreshes an instance's row; it counts for `ttlMs` from now unless refreshed again. */
export async function refreshEventListener(db: Db, id: string, ttlMs: number): Promise<void> {
  await sql`
    insert into event_listeners (id, expires_at) values (${id}, now() + ${ttlMs} * interval '1 millisecond')
    on conflict (id) do update set expires_at = excluded.expires_at
  `.execute(db);
}

/** The instance has nobody waiting any more. Rows of instances that died long ago go too. */
export async function removeEventListener(db: Db, id: string): Promise<void> {
  await sql`delete from event_listeners where id = ${id} or expires_at < now() - interval '1 hour'`.execute(db);
}
