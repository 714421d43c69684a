-- Schedules (docs/contract.md#schedules): start runs of a workflow on a cron expression.
-- next_fire_at is the next fire time the engines owe (null while paused, or when the cron has no future time);
-- an engine locks a due row (FOR UPDATE SKIP LOCKED), starts its run and advances next_fire_at in one transaction,
-- so each fire time starts exactly one run (idempotency key schedule:<id>:<fire time ISO>).

create table schedules (
  id                text        primary key check (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  workflow_name     text        not null check (workflow_name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  -- null: the highest registered version at each fire
  workflow_version  text        check (length(workflow_version) between 1 and 64),
  cron              text        not null check (length(cron) between 1 and 200),
  timezone          text        not null default 'UTC' check (length(timezone) between 1 and 64),
  input             jsonb       not null check (jsonb_typeof(input) = 'object'),
  context           jsonb       not null default '{}' check (jsonb_typeof(context) = 'object'),
  overlap           text        not null default 'skip' check (overlap in ('skip', 'allow')),
  paused            boolean     not null default false,
  next_fire_at      timestamptz,
  last_fire_at      timestamptz,
  last_run_id       uuid,
  -- fire times skipped because the previous run was still going (overlap skip)
  skipped_count     bigint      not null default 0 check (skipped_count >= 0),
  -- fire times that passed while no engine ran (only the most recent of them fired)
  missed_count      bigint      not null default 0 check (missed_count >= 0),
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  check (not paused or next_fire_at is null)
);

-- the engines' pick: the earliest due schedule first
create index schedules_due on schedules (next_fire_at) where next_fire_at is not null;
