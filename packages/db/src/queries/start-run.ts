import { randomUUID } from 'node:crypto';
import { canonicalJson } from '@sagaflow/definitions';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Db } from '../pool.js';
import type { RunStatus } from '../schema.js';
import { getDefinition } from './definitions.js';

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

/**
 * Starts a run: one statement inserts the run, its steps and the first outbox item, and wakes the engines.
 * The same idempotency key with the same request returns the existing run; with a different request it is a conflict.
 */
export async function startRun(db: Db, args: StartRunArgs): Promise<StartRunResult> {
  const stored = await getDefinition(db, args.workflowName, args.version);
  if (!stored) {
    const which = args.version ? `${args.workflowName}@${args.version}` : args.workflowName;
    throw new NotFoundError(`workflow ${which} is not registered`);
  }
  const steps = stored.definition.steps;
  const requestHash = args.idempotencyKey ? hashRequest(args) : null;
  const runId = randomUUID();

  const { rows } = await sql<{ id: string }>`
    with run as (
      insert into workflow_runs (id, workflow_name, workflow_version, input, context, correlation_id,
                                 idempotency_key, request_hash, trace_parent, trace_state)
      values (${runId}, ${stored.name}, ${stored.version}, ${JSON.stringify(args.input)}::jsonb,
              ${JSON.stringify(args.context ?? {})}::jsonb, ${args.correlationId}, ${args.idempotencyKey ?? null},
              ${requestHash}, ${args.traceParent ?? null}, ${args.traceState ?? null})
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
    select id, (select count(*) from steps) + (select count(*) from item) + (select count(*) from wake) as n from run
  `.execute(db);
  if (rows[0]) return { runId: rows[0].id, status: 'PENDING', created: true };

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
