-- Seeds workflow_runs for the search plans (packages/db/test/search-plans.test.ts, docs/performance.md#search):
-- :runs runs over the 30 days before now, in created_at order, spread over 20 workflows × 3 versions, with the status
-- mix of a busy installation, drawn at random and independently (90 % COMPLETED, 4 % COMPENSATED, 3 % FAILED, 1 % CANCELLED, 2 % still open), an error
-- on every failed/compensated/cancelled run (code and stepId), an idempotency key on half of them, a context with one
-- of 500 tenants and an input naming one of 100,000 customers. Runs only (no steps): search reads workflow_runs alone.
-- psql: psql -v runs=10000000 -f search-seed.sql; the test substitutes :runs itself.
insert into workflow_definitions (name, version, definition, checksum)
select 'wf-' || w, v || '.0.0', '{}'::jsonb, repeat('0', 64)
  from generate_series(0, 19) w cross join generate_series(1, 3) v
on conflict do nothing;

insert into workflow_runs (id, workflow_name, workflow_version, status, input, context, error, correlation_id,
                           idempotency_key, request_hash, cancel_requested_at, created_at, updated_at, completed_at)
select (substr(hex, 1, 8) || '-' || substr(hex, 9, 4) || '-7' || substr(gen_random_uuid()::text, 16))::uuid,
       'wf-' || w, (1 + v) || '.0.0', status,
       jsonb_build_object('orderId', 'ord-' || g, 'customerId', 'c-' || customer, 'amount', g % 10000, 'currency', 'EUR'),
       jsonb_build_object('tenantId', 't-' || tenant),
       case status
         when 'FAILED' then jsonb_build_object('code', case when e < 0.2 then 'DELIVERY_EXHAUSTED' else 'STEP_FAILED' end,
                                               'message', 'declined', 'stepId', 'step-' || step)
         when 'COMPENSATED' then jsonb_build_object('code', 'STEP_FAILED', 'message', 'declined', 'stepId', 'step-' || step)
         when 'CANCELLED' then jsonb_build_object('code', 'CANCELLED', 'message', 'cancelled')
       end,
       'corr-' || g,
       case when g % 2 = 0 then 'key-' || g end,
       case when g % 2 = 0 then repeat('0', 64) end,
       case when status = 'CANCELLED' then created_at + interval '1 second' end,
       created_at, created_at + interval '2 seconds',
       case when status in ('COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED') then created_at + interval '2 seconds' end
  from (select g, created_at, lpad(to_hex((extract(epoch from created_at) * 1000)::bigint), 12, '0') as hex,
               case when s < 0.90 then 'COMPLETED' when s < 0.94 then 'COMPENSATED' when s < 0.97 then 'FAILED'
                    when s < 0.98 then 'CANCELLED' when s < 0.99 then 'RUNNING' else 'PENDING' end as status,
               -- independent draws: no filter value is tied to another
               floor(random() * 20)::int as w, floor(random() * 3)::int as v, floor(random() * 500)::int as tenant,
               floor(random() * 100000)::int as customer, floor(random() * 7)::int as step, random() as e
          from (select g, random() as s, now() - interval '30 days' * (1 - g::float8 / :runs) as created_at
                  from generate_series(1, :runs) g) t) s;
