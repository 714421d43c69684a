-- Idempotency keys scoped per API key (docs/security.md#idempotency-keys-per-api-key, SPEC §14).
-- idempotency_scope is a non-secret id of the key that started the run (the first 16 hex digits of sha256(key));
-- null when the API runs without SAGAFLOW_API_KEYS (and for every run started before this migration). Two keys
-- using the same idempotency key start two runs; one key can never replay (or conflict with) another key's run.

alter table workflow_runs
  add column idempotency_scope text check (idempotency_scope ~ '^[0-9a-f]{16}$');

-- replaces workflow_runs_idempotency_key: one run per (workflow, scope, key); a null scope is one scope of its own
create unique index workflow_runs_idempotency_scope_key
  on workflow_runs (workflow_name, (coalesce(idempotency_scope, '')), idempotency_key)
  where idempotency_key is not null;
drop index workflow_runs_idempotency_key;
