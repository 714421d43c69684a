-- What a step costs Postgres (docs/performance.md#history-on-against-off-burst).
-- 1. A run's row is rewritten at every step (its event_seq, updated_at) and a step's row at every attempt; with room
--    left on their pages those rewrites are HOT updates, which touch none of the tables' indexes (workflow_runs has
--    twelve). Only new pages get the room; existing ones keep theirs.
alter table workflow_runs set (fillfactor = 75);
alter table run_steps set (fillfactor = 75);
-- 2. The one writer appends events only for a run it holds (locked by the same statement), and runs are never
--    deleted, so the foreign key's per-row check (a trigger taking a key-share lock of the run row) only cost time.
alter table run_events drop constraint run_events_run_id_fkey;
