-- Durable waits (docs/contract.md#durable-waits): sleep and waitForSignal steps, and each run's signal mailbox.
-- A waiting step is RUNNING with wait_for/wait_until set; its run's outbox item is READY, unleased, due at
-- wait_until (the wake-up or the signal's timeout). Only the one writer (packages/saga rowWrites, applied by
-- packages/db applyRowWrites) sets, clears and consumes them, in the statement that appends the history.

alter table run_steps
  add column wait_for    text        check (wait_for in ('sleep', 'signal')),
  add column wait_until  timestamptz,
  add column wait_signal text        check (wait_signal ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  add constraint run_steps_wait check (
    (wait_for is null) = (wait_until is null)
    and (wait_for = 'signal') = (wait_signal is not null)
    and (wait_for is null or status = 'RUNNING'));

-- the runs_waiting{waitFor} gauge without scanning every step
create index run_steps_waiting on run_steps (wait_for) where wait_for is not null;

create table run_signals (
  seq             bigint      generated always as identity primary key,
  id              uuid        not null unique,
  run_id          uuid        not null references workflow_runs (id) on delete cascade,
  name            text        not null check (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  payload         jsonb,
  idempotency_key text        check (length(idempotency_key) between 1 and 200),
  request_hash    text        check ((idempotency_key is null) = (request_hash is null)),
  created_at      timestamptz not null default now(),
  consumed_at     timestamptz,
  consumed_by     text,
  check ((consumed_at is null) = (consumed_by is null))
);

-- the mailbox: a run's unconsumed signals of one name, oldest (lowest seq) first
create index run_signals_mailbox on run_signals (run_id, name, seq) where consumed_at is null;
-- an idempotency key names one signal of a run
create unique index run_signals_idempotency_key on run_signals (run_id, idempotency_key)
  where idempotency_key is not null;
