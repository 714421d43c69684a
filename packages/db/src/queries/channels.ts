import { sql } from 'kysely';

/** NOTIFY channels. Payloads are delivered at commit, to every listening connection (any API or engine instance). */

/** new outbox work is due now: engines claim at once (payload empty) */
export const OUTBOX_CHANNEL = 'sagaflow_outbox';

/** runs gained history events: payload = their ids, comma-separated (long polls and event streams wake up) */
export const EVENTS_CHANNEL = 'sagaflow_run_events';

/** the events payload that wakes every waiter: more runs changed than one payload can name */
export const EVENTS_ALL_RUNS = '*';

/**
 * The events channel's payload over a relation with a `run_id` column: the ids, or `*` beyond 200 of them (a NOTIFY
 * payload must stay under 8,000 bytes and 200 ids take 7,399; a longer one would fail the whole statement).
 */
export const runEventsPayload = sql<string>`case when count(distinct run_id) > 200 then ${sql.lit(EVENTS_ALL_RUNS)}
  else string_agg(distinct run_id::text, ',') end`;

/**
 * True while some API instance has requests waiting for run history (table event_listeners, kept by the API's
 * RunEventsHub). Statements that append history NOTIFY EVENTS_CHANNEL only then: with nobody waiting, the NOTIFY cost
 * each commit the notification queue's lock and woke every listening backend, the engines' included, to read it in a
 * transaction of its own (docs/architecture.md#history-notifications-only-when-someone-waits).
 */
export const eventsAwaited = sql<boolean>`exists (select 1 from event_listeners where expires_at > now())`;

/** a bulk operation was created: engines look for operation work at once (payload empty) */
export const OPERATIONS_CHANNEL = 'sagaflow_operations';
/** a schedule was created, changed or resumed: engines re-read the earliest fire time (payload = schedule id) */
export const SCHEDULES_CHANNEL = 'sagaflow_schedules';
