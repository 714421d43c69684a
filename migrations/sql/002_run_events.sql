-- Run history (docs/contract.md#run-history): every change of a run appended as an event, in the transaction of the change.
-- workflow_runs.event_seq is the run's last seq; the one writer (packages/saga rowWrites, applied by
-- packages/db applyRowWrites), the start and the claim advance it together with the events they append.
-- Runs started before this migration have no history before it (event_seq starts at 0 for them).

alter table workflow_runs add column event_seq integer not null default 0 check (event_seq >= 0);

create table run_events (
  run_id   uuid        not null references workflow_runs (id) on delete cascade,
  seq      integer     not null check (seq >= 1),
  at       timestamptz not null default clock_timestamp(),
  type     text        not null check (type in (
             'RUN_CREATED', 'RUN_STATUS_CHANGED', 'ATTEMPT_FINISHED', 'DELIVERY_PARKED', 'CANCEL_REQUESTED',
             'OPERATOR_ACTION', 'STEP_WAITING', 'SIGNAL_RECEIVED', 'STEP_WOKEN')),
  step_id  text,
  kind     text        check (kind in ('action', 'compensation')),
  attempt  integer     check (attempt >= 1),
  data     jsonb       not null check (jsonb_typeof(data) = 'object'),
  primary key (run_id, seq)
);
