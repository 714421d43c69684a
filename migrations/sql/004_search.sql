-- Run search (docs/operations.md#search, SPEC §13): GET /v1/runs and /v1/runs/counts read workflow_runs directly.
-- Every index ends in (created_at, id): a single filter plus the search's order (created_at desc, id desc) and keyset
-- cursor is one backward index range scan that stops after `limit` rows, with no sort. Chosen from EXPLAIN at 10 M runs
-- (docs/performance.md#search). `if not exists`: on a large table an operator can build them first with
-- `create index concurrently` under the same names (this file's plain build blocks writes to workflow_runs meanwhile).

-- no filter, a created_at range, and the walk of filters without their own index (several statuses);
-- status is included so counts over a time range are an index-only scan
create index if not exists workflow_runs_created on workflow_runs (created_at, id) include (status);
create index if not exists workflow_runs_status_created on workflow_runs (status, created_at, id);
-- workflowName, workflowVersion (with both, the planner walks one and checks the other on the rows)
create index if not exists workflow_runs_workflow_created on workflow_runs (workflow_name, created_at, id);
create index if not exists workflow_runs_version_created on workflow_runs (workflow_version, created_at, id);
create index if not exists workflow_runs_correlation_created on workflow_runs (correlation_id, created_at, id);
-- idempotencyKey without workflowName (workflow_runs_idempotency_key leads with the name)
create index if not exists workflow_runs_idempotency_created on workflow_runs (idempotency_key, created_at, id)
  where idempotency_key is not null;
-- errorCode and stepId (= error.stepId): only runs that ended with an error are in them
create index if not exists workflow_runs_error_code_created on workflow_runs ((error ->> 'code'), created_at, id)
  where error is not null;
create index if not exists workflow_runs_error_step_created on workflow_runs ((error ->> 'stepId'), created_at, id)
  where error is not null;
-- input / context containment (@>)
create index if not exists workflow_runs_input_contains on workflow_runs using gin (input jsonb_path_ops);
create index if not exists workflow_runs_context_contains on workflow_runs using gin (context jsonb_path_ops);
