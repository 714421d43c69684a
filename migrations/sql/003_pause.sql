-- Pause and resume (docs/contract.md#pause): a run's own pause flag, paused workflows, and held outbox items.
-- A paused run (workflow_runs.paused_at) or a run of a paused workflow (workflow_pauses) starts no new attempt: its
-- live READY item that no engine holds is "held": due_at = 'infinity' (so the claim, which walks outbox_claim for
-- due_at <= now(), never reaches it) and held_due_at keeps the due time it had. Resume sets due_at back to
-- greatest(held_due_at, now()) and held_due_at to null. The pause is the flag, never the due time: a wait or a retry
-- keeps its own due time in held_due_at while held.

alter table workflow_runs add column paused_at timestamptz;
-- a terminal run is never paused
alter table workflow_runs add constraint workflow_runs_terminal_not_paused check (completed_at is null or paused_at is null);

create table workflow_pauses (
  workflow_name text        primary key check (workflow_name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  paused_at     timestamptz not null default now(),
  reason        text        check (length(reason) <= 1000)
);

alter table outbox add column held_due_at timestamptz;
alter table outbox add constraint outbox_held_is_not_due check (held_due_at is null or (due_at = 'infinity' and status = 'READY' and lease_token is null));
-- the held items (a workflow's resume releases them)
create index outbox_held on outbox (run_id) where held_due_at is not null;
