import { randomUUID } from 'node:crypto';
import { canonicalJson } from '@sagaflow/definitions';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Db } from '../pool.js';
import type { RunStatus } from '../schema.js';
import { DefinitionCatalog } from './definition-catalog.js';

export const OUTBOX_CHANNEL = 'sagaflow_outbox';

export interface StartRunArgs {
  workflowName: string;
  version?: string;
  input: Record<string, unknown>;
  context?: Record<string, unknown>;
  correlationId: string;
  idempotencyKey?: string;
  traceParent?: string;
  traceState?: string;
}

export interface StartRunResult {
  runId: string;
  status: RunStatus;
  /** false when an idempotency key replayed an existing run */
  created: boolean;
}

function hashRequest(args: StartRunArgs): string {
  const request = { version: args.version ?? null, input: args.input, context: args.context ?? {} };
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/** A catalog per database handle for callers that do not bring their own (tests, scripts). */
const catalogs = new WeakMap<Db, DefinitionCatalog>();

/**
 * Starts a run: one statement inserts the run, its steps and the first outbox item, and wakes the engines. The
 * definition comes from `catalog` (cached); when no version is given, the statement also checks that Postgres holds
 * no version the catalog did not know, and inserts nothing otherwise (then the name is re-read and the start retried).
 * The same idempotency key with the same request returns the existing run; with a different request it is a conflict.
 */
export async function startRun(db: Db, args: StartRunArgs, catalog?: DefinitionCatalog): Promise<StartRunResult> {
  let definitions = catalog ?? catalogs.get(db);
  if (!definitions) catalogs.set(db, (definitions = new DefinitionCatalog(db)));
  const requestHash = args.idempotencyKey ? hashRequest(args) : null;
  const runId = randomUUID();
  for (let attempt = 0; ; attempt++) {
    const fresh = attempt > 0;
    if (attempt > 5) throw new Error(`workflow ${args.workflowName} keeps getting new versions; start not inserted`);
    const { versions, stored } = await definitions.resolve(args.workflowName, args.version, fresh);
    if (!stored && !fresh) continue; // registered since this process looked? read the name again
    if (!stored) {
      const which = args.version ? `${args.workflowName}@${args.version}` : args.workflowName;
      throw new NotFoundError(`workflow ${which} is not registered`);
    }
    const steps = stored.definition.steps;
    const { rows } = await sql<{ known: boolean; id: string | null }>`
      with known as materialized (
        select ${args.version !== undefined} or not exists (
          select 1 from workflow_definitions where name = ${stored.name} and version <> all(${versions}::text[])
        ) as ok
      ), run as (
        insert into workflow_runs (id, workflow_name, workflow_version, input, context, correlation_id,
                                   idempotency_key, request_hash, trace_parent, trace_state)
        select ${runId}, ${stored.name}, ${stored.version}, ${JSON.stringify(args.input)}::jsonb,
               ${JSON.stringify(args.context ?? {})}::jsonb, ${args.correlationId}, ${args.idempotencyKey ?? null},
               ${requestHash}, ${args.traceParent ?? null}, ${args.traceState ?? null}
         where (select ok from known)
        on conflict (workflow_name, idempotency_key) where idempotency_key is not null do nothing
        returning id
      ), steps as (
        insert into run_steps (run_id, step_index, step_id, compensation_status)
        select run.id, t.i - 1, t.step_id, case when t.compensated then 'PENDING' else 'NONE' end
        from run, unnest(${steps.map((s) => s.id)}::text[], ${steps.map((s) => s.compensation !== undefined)}::bool[])
             with ordinality as t(step_id, compensated, i)
        returning 1
      ), item as (
        insert into outbox (run_id, step_index, kind)
        select run.id, 0, 'action' from run
        returning 1
      ), wake as (
        select pg_notify(${OUTBOX_CHANNEL}, '') from run
      )
      select known.ok as known, run.id,
             (select count(*) from steps) + (select count(*) from item) + (select count(*) from wake) as n
        from known left join run on true
    `.execute(db);
    const row = rows[0];
    if (row?.id) return { runId: row.id, status: 'PENDING', created: true };
    if (!row?.known) continue; // a version registered since the catalog read the name: read it again

    const existing = await db
      .selectFrom('workflow_runs')
      .select(['id', 'status', 'request_hash'])
      .where('workflow_name', '=', stored.name)
      .where('idempotency_key', '=', args.idempotencyKey ?? '')
      .executeTakeFirst();
    if (!existing) throw new Error('idempotency conflict without an existing run');
    if (existing.request_hash !== requestHash) {
      throw new ConflictError(`idempotency key "${args.idempotencyKey}" was already used with a different request`);
    }
    return { runId: existing.id, status: existing.status, created: false };
  }
}
