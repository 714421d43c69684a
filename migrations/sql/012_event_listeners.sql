-- The API instances that have requests waiting for run history (long polls, event streams;
-- docs/architecture.md#history-notifications-only-when-someone-waits). A statement that appends history NOTIFYs
-- `sagaflow_run_events` only while a row here is fresh: with nobody waiting, a NOTIFY cost every commit the
-- notification queue's lock and woke every listening backend (the engines' too), which read the queue in a
-- transaction of their own. An API instance inserts its row when it starts listening, refreshes it every 2 s and
-- deletes it when its last waiter has been gone a while; `expires_at` covers an instance that died.
create table event_listeners (
  id         text        primary key,
  expires_at timestamptz not null
);
