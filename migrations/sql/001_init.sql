-- SagaFlow schema, version 1. Never edit this file once applied: add 002_*.sql instead.
-- States mirror packages/db/src/state-machine.ts; a CHECK here rejects anything the table there does not list.

create table workflow_definitions (
  name        text        not null check (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  version     text        not null check (length(version) between 5 and 64),
  definition  jsonb       not null,
  checksum    text        not null check (checksum ~ '^[0-9a-f]{64}$'),
  created_at  timestamptz not null default now(),
  primary key (name, version)
);

create table workflow_runs (
  id                  uuid        primary key,
  workflow_name       text        not null,
  workflow_version    text        not null,
  status              text        not null default 'PENDING' check (status in (
                        'PENDING', 'RUNNING', 'COMPENSATING', 'CANCELLING',
                        'COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED')),
  input               jsonb       not null check (jsonb_typeof(input) = 'object'),
  context             jsonb       not null default '{}' check (jsonb_typeof(context) = 'object'),
  error               jsonb       check (error is null or (
                        jsonb_typeof(error) = 'object' and error ->> 'code' in (
                          'STEP_FAILED', 'COMPENSATION_FAILED', 'CANCELLED', 'DELIVERY_EXHAUSTED', 'TEMPLATE_ERROR'))),
  correlation_id      text        not null check (length(correlation_id) between 1 and 200),
  idempotency_key     text        check (length(idempotency_key) between 1 and 200),
  request_hash        text        check ((idempotency_key is null) = (request_hash is null)),
  trace_parent        text,
  trace_state         text,
  cancel_requested_at timestamptz,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  completed_at        timestamptz,
  foreign key (workflow_name, workflow_version) references workflow_definitions (name, version),
  -- a run is terminal exactly when it has a completion time
  check ((status in ('COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED')) = (completed_at is not null)),
  -- a completed run carries no error; failed, compensated and cancelled ones say why
  check (status <> 'COMPLETED' or error is null),
  check (status not in ('FAILED', 'COMPENSATED', 'CANCELLED') or error is not null),
  -- CANCELLING and CANCELLED only ever follow a cancel request
  check (status not in ('CANCELLING', 'CANCELLED') or cancel_requested_at is not null)
);

-- the same idempotency key starts one run per workflow, whatever the concurrency
create unique index workflow_runs_idempotency_key on workflow_runs (workflow_name, idempotency_key)
  where idempotency_key is not null;
-- active runs (the workflow_active_runs gauge) without scanning finished ones
create index workflow_runs_active on workflow_runs (status) where completed_at is null;

create table run_steps (
  run_id                             uuid        not null references workflow_runs (id) on delete cascade,
  step_index                         int         not null check (step_index between 0 and 49),
  step_id                            text        not null check (step_id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  status                             text        not null default 'PENDING' check (status in (
                                       'PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED')),
  attempts                           int         not null default 0 check (attempts >= 0),
  attempts_before_retry              int         not null default 0 check (attempts_before_retry between 0 and attempts),
  compensation_status                text        not null check (compensation_status in (
                                       'NONE', 'PENDING', 'RUNNING', 'COMPENSATED', 'FAILED')),
  compensation_attempts              int         not null default 0 check (compensation_attempts >= 0),
  compensation_attempts_before_retry int         not null default 0
                                       check (compensation_attempts_before_retry between 0 and compensation_attempts),
  output                             jsonb,
  error                              jsonb       check (error is null or jsonb_typeof(error) = 'object'),
  compensation_error                 jsonb       check (compensation_error is null or jsonb_typeof(compensation_error) = 'object'),
  started_at                         timestamptz,
  finished_at                        timestamptz,
  compensated_at                     timestamptz,
  primary key (run_id, step_index),
  unique (run_id, step_id),
  -- only a step whose action succeeded is ever compensated
  check (compensation_status in ('NONE', 'PENDING') or status = 'SUCCEEDED'),
  check (compensation_status <> 'NONE' or compensation_attempts = 0),
  check (status <> 'SUCCEEDED' or finished_at is not null),
  check (status <> 'SKIPPED' or attempts = 0)
);

create table step_attempts (
  id           bigint      generated always as identity primary key,
  run_id       uuid        not null,
  step_index   int         not null,
  kind         text        not null check (kind in ('action', 'compensation')),
  attempt_no   int         not null check (attempt_no >= 1),
  outcome      text        not null check (outcome in ('SUCCEEDED', 'RETRYABLE', 'FAILED')),
  http_status  int         check (http_status between 100 and 599),
  error        jsonb       check (error is null or jsonb_typeof(error) = 'object'),
  started_at   timestamptz not null,
  finished_at  timestamptz not null check (finished_at >= started_at),
  foreign key (run_id, step_index) references run_steps (run_id, step_index) on delete cascade,
  -- an attempt is recorded once: a redelivered attempt reuses its number and commits only once
  unique (run_id, step_index, kind, attempt_no),
  check ((outcome = 'SUCCEEDED') = (error is null))
);

create table outbox (
  id                bigint      generated always as identity primary key,
  run_id            uuid        not null references workflow_runs (id) on delete cascade,
  step_index        int         not null,
  kind              text        not null check (kind in ('action', 'compensation')),
  status            text        not null default 'READY' check (status in ('READY', 'DEAD')),
  -- when the item may next be claimed; a claim moves it to the end of the lease,
  -- so an expired lease is simply due again
  due_at            timestamptz not null default now(),
  lease_owner       text,
  lease_token       uuid,
  deliveries        int         not null default 0 check (deliveries >= 0),
  last_error        jsonb,
  created_at        timestamptz not null default now(),
  foreign key (run_id, step_index) references run_steps (run_id, step_index) on delete cascade,
  check ((lease_owner is null) = (lease_token is null))
);

-- the claim: WHERE status = 'READY' AND due_at <= now() ORDER BY due_at, id
create index outbox_claim on outbox (due_at, id) where status = 'READY';
-- a saga moves one item at a time: at most one live item per run
create unique index outbox_one_live_item_per_run on outbox (run_id) where status = 'READY';
