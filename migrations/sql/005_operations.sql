-- Bulk operations (docs/operations.md#bulk-operations, SPEC §13): POST /v1/admin/operations fixes the set of runs a
-- filter matched (operation_runs, one row per run) and the engines apply the action to them in the background.
-- A run's action and its operation_runs row leaving PENDING commit in the same transaction, so no run is acted on
-- twice, whatever process dies when.

create table operations (
  id              uuid        primary key,
  action          text        not null check (action in ('cancel', 'redrive', 'pause', 'resume')),
  status          text        not null default 'RUNNING' check (status in ('RUNNING', 'COMPLETED', 'CANCELLED')),
  -- the filter as the request gave it (GET /v1/admin/operations/{id} returns it)
  filter          jsonb       not null check (jsonb_typeof(filter) = 'object'),
  reason          text        check (length(reason) <= 1000),
  rate_per_second int         not null check (rate_per_second between 1 and 1000),
  total           int         not null check (total >= 0),
  -- the rate limit: a worker reserves n runs by moving this n / rate seconds on (never from a time in the past, so
  -- no burst builds up while nothing ran); a run is taken only once its reservation was due
  next_run_at     timestamptz not null default now(),
  created_at      timestamptz not null default now(),
  finished_at     timestamptz,
  check ((status = 'RUNNING') = (finished_at is null))
);

-- GET /v1/admin/operations: newest first, keyset (created_at, id)
create index operations_created on operations (created_at, id);
-- the workers' reservation: due running operations
create index operations_due on operations (next_run_at) where status = 'RUNNING';

create table operation_runs (
  operation_id uuid        not null references operations (id) on delete cascade,
  -- no foreign key: a run deleted later is skipped when its turn comes
  run_id       uuid        not null,
  state        text        not null default 'PENDING' check (state in ('PENDING', 'SUCCEEDED', 'SKIPPED', 'FAILED')),
  -- why the run was skipped or failed
  reason       text,
  done_at      timestamptz,
  primary key (operation_id, run_id),
  check ((state = 'PENDING') = (done_at is null))
);

-- the next runs of an operation, in run id order (the order every writer locks runs in)
create index operation_runs_pending on operation_runs (operation_id, run_id) where state = 'PENDING';
-- the first errors of an operation, in the order they happened
create index operation_runs_failed on operation_runs (operation_id, done_at) where state = 'FAILED';
