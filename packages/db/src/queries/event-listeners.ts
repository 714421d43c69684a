import { CompiledQuery, sql } from 'kysely';
import type { Db } from '../pool.js';

/**
 * Who waits for run history (table `event_listeners`, docs/architecture.md#history-notifications-only-when-someone-waits).
 * An API instance keeps a row here while it has requests waiting for a run's next event; statements that append
 * history NOTIFY the events channel only while some row is fresh (eventsAwaited in channels.ts).
 */

/**
 * Inserts or refreshes a row ($1 id) fresh for $2 ms from now; rows of instances that died an hour ago go too (the
 * table is read by every history commit). The API runs it on its LISTEN connection itself, so a connection that no
 * longer works stops refreshing its row.
 */
export const REFRESH_EVENT_LISTENER_SQL = `with gone as (delete from event_listeners where expires_at < now() - interval '1 hour')
insert into event_listeners (id, expires_at) values ($1, now() + $2 * interval '1 millisecond')
on conflict (id) do update set expires_at = excluded.expires_at`;

/** REFRESH_EVENT_LISTENER_SQL through a Kysely handle. */
export async function refreshEventListener(db: Db, id: string, ttlMs: number): Promise<void> {
  await db.executeQuery(CompiledQuery.raw(REFRESH_EVENT_LISTENER_SQL, [id, ttlMs]));
}

/** The instance has nobody waiting any more. Rows of instances that died long ago go too. */
export async function removeEventListener(db: Db, id: string): Promise<void> {
  await sql`delete from event_listeners where id = ${id} or expires_at < now() - interval '1 hour'`.execute(db);
}
