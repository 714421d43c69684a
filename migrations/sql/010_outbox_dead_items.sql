-- A run's parked (DEAD) item, found by run: the one writer deletes it when an operator's retry resolves the run
-- (docs/performance.md#waiting-runs-and-the-plan). Without this index that delete could only read the whole outbox,
-- and the cost of that reading, counted in the writer's generic plan even when no item is parked, made Postgres plan
-- the writer afresh at every completion once the outbox was large (thousands of sleeping or waiting runs).
-- DEAD items are few, so the index is small and almost never written.
create index if not exists outbox_dead on outbox (run_id) where status = 'DEAD';
