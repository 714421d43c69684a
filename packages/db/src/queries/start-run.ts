import { canonicalJson } from '@sagaflow/definitions';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Settlement } from '../group-commit.js';
import { executePrepared, type Db } from '../pool.js';
import { uuidv7 } from '../uuidv7.js';
import type { RunStatus } from '../schema.js';
import { EVENTS_CHANNEL, eventsAwaited, runEventsPayload, OUTBOX_CHANNEL } from './channels.js';

/**
 * A run whose input and context take at least this many bytes (as stored) is not handed to an engine: its NOTIFY
 * payload could pass Postgres' 8,000-byte limit. The claim takes it instead.
 */
export const HANDOFF_MAX_DATA_BYTES = 3000;
import { DefinitionCatalog } from './definition-catalog.js';

export interface StartRunArgs {
  workflowName: string;
  version?: string;
  input: Record<string, unknown>;
  context?: Record<string, unknown>;
  correlationId: string;
  idempotencyKey?: string;
  /**
   * Whose idempotency keys these are: a non-secret id of the caller's API key (16 hex digits). Starts of different
   * scopes never replay or conflict with each other; undefined (no API keys configured) is one scope of its own.
   */
  idempotencyScope?: string;
  traceParent?: string;
  traceState?: string;
}

export interface StartRunResult {
  runId: string;
  status: RunStatus;
  /** false when an idempotency key replayed an existing run */
  created: boolean;
  /** the run's own correlation id (a replay's request may have brought another one) */
  correlationId: string;
}

function hashRequest(args: StartRunArgs): string {
  const request = { version: args.version ?? null, input: args.input, context: args.context ?? {} };
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/** A catalog per database handle for callers that do not bring their own (tests, scripts). */
const catalogs = new WeakMap<Db, DefinitionCatalog>();

function catalogFor(db: Db, catalog: DefinitionCatalog | undefined): DefinitionCatalog {
  let definitions = catalog ?? catalogs.get(db);
  if (!definitions) catalogs.set(db, (definitions = new DefinitionCatalog(db)));
  return definitions;
}

interface PreparedStart {
  args: StartRunArgs;
  runId: string;
  requestHash: string | null;
  name: string;
  version: string;
  /** the versions of the name the catalog knew; undefined when `version` was explicit (nothing to guard) */
  knownVersions: string[] | undefined;
  stepIds: string[];
  compensated: boolean[];
}

async function prepareStart(
  definitions: DefinitionCatalog,
  args: StartRunArgs,
  fresh: boolean,
): Promise<PreparedStart> {
  let found = await definitions.resolve(args.workflowName, args.version, fresh);
  // registered since this process looked? read the name again before saying no
  if (!found.stored && !fresh) found = await definitions.resolve(args.workflowName, args.version, true);
  const { versions, stored } = found;
  if (!stored) {
    const which = args.version ? `${args.workflowName}@${args.version}` : args.workflowName;
    throw new NotFoundError(`workflow ${which} is not registered`);
  }
  const steps = stored.definition.steps;
  return {
    args,
    runId: uuidv7(),
    requestHash: args.idempotencyKey ? hashRequest(args) : null,
    name: stored.name,
    version: stored.version,
    knownVersions: args.version === undefined ? versions : undefined,
    stepIds: steps.map((step) => step.id),
    compensated: steps.map((step) => step.compensation !== undefined),
  };
}

interface InsertRow {
  id: string;
  known: boolean;
  created: boolean;
}

/**
 * One statement for a batch of starts: inserts each run, its steps and its first outbox item, and wakes the engines once.
 * A start without `version` is inserted only when Postgres holds no version of the name its catalog did not know.
 */
async function insertStarts(db: Db, batch: PreparedStart[]): Promise<Map<string, InsertRow>> {
  const runs = batch.map((p) => ({
    id: p.runId,
    name: p.name,
    version: p.version,
    known_versions: p.knownVersions ?? null,
    input: p.args.input,
    context: p.args.context ?? {},
    correlation_id: p.args.correlationId,
    idempotency_key: p.args.idempotencyKey ?? null,
    idempotency_scope: p.args.idempotencyKey ? (p.args.idempotencyScope ?? null) : null,
    request_hash: p.requestHash,
    trace_parent: p.args.traceParent ?? null,
    trace_state: p.args.traceState ?? null,
  }));
  const steps = batch.flatMap((p) =>
    p.stepIds.map((stepId, i) => ({ run_id: p.runId, step_index: i, step_id: stepId, compensated: p.compensated[i] })),
  );
  const rows = await executePrepared(
    db,
    'sagaflow_start_runs',
    sql<InsertRow>`
    with req as materialized (
      select t.*, t.known_versions is null or not exists (
               select 1 from workflow_definitions d where d.name = t.name and d.version <> all(t.known_versions)) as known,
             exists (select 1 from workflow_pauses p where p.workflow_name = t.name for key share) as held
        from jsonb_to_recordset(${JSON.stringify(runs)}::jsonb)
          as t(id uuid, name text, version text, known_versions text[], input jsonb, context jsonb, correlation_id text,
               idempotency_key text, idempotency_scope text, request_hash text, trace_parent text, trace_state text)
    ), engine as materialized (
      -- the first step goes straight to a live engine with free slots (docs/architecture.md#the-first-step-handed-to-an-engine)
      -- (its LISTEN backend alive: a dead engine's connection is gone within milliseconds)
      select id, channel, lease_ms, free_slots from engines e
       where expires_at > now() and free_slots > 0 and exists (select 1 from pg_stat_get_activity(e.listen_pid))
       order by random() limit 1
    ), eligible as materialized (
      -- a paused workflow accepts starts but dispatches nothing: the first item is held (docs/contract.md#pause); a
      -- run whose data would not fit a NOTIFY payload is left to the claim
      select req.id, not req.held
                     and pg_column_size(req.input) + pg_column_size(req.context) < ${sql.lit(HANDOFF_MAX_DATA_BYTES)} as fits
        from req where req.known
    ), plan as materialized (
      -- no more runs of the batch than the engine has free slots: the rest wait in the outbox for a claim
      select id, coalesce(fits and row_number() over (partition by fits order by id) <= (select free_slots from engine),
                          false) as handed
        from eligible
    ), run as (
      insert into workflow_runs (id, workflow_name, workflow_version, input, context, correlation_id,
                                 idempotency_key, idempotency_scope, request_hash, trace_parent, trace_state, status, event_seq)
      select req.id, name, version, input, context, correlation_id, idempotency_key, idempotency_scope, request_hash,
             trace_parent, trace_state, case when plan.handed then 'RUNNING' else 'PENDING' end,
             case when plan.handed then 2 else 1 end
        from req join plan on plan.id = req.id
      on conflict (workflow_name, (coalesce(idempotency_scope, '')), idempotency_key) where idempotency_key is not null
        do nothing
      returning id, workflow_name, workflow_version, correlation_id, idempotency_key, input, context, trace_parent,
                trace_state, created_at, status = 'RUNNING' as handed
    ), steps as (
      insert into run_steps (run_id, step_index, step_id, compensation_status, status, started_at)
      select s.run_id, s.step_index, s.step_id, case when s.compensated then 'PENDING' else 'NONE' end,
             case when run.handed and s.step_index = 0 then 'RUNNING' else 'PENDING' end,
             case when run.handed and s.step_index = 0 then now() end
        from jsonb_to_recordset(${JSON.stringify(steps)}::jsonb) as s(run_id uuid, step_index int, step_id text, compensated boolean)
        join run on run.id = s.run_id
    ), item as (
      insert into outbox (run_id, step_index, kind, due_at, held_due_at, lease_owner, lease_token, deliveries)
      select run.id, 0, 'action',
             case when req.held then 'infinity'::timestamptz
                  when run.handed then now() + (select lease_ms from engine) * interval '1 millisecond'
                  else now() end,
             case when req.held then now() end,
             case when run.handed then (select id from engine) end,
             case when run.handed then gen_random_uuid() end,
             case when run.handed then 1 else 0 end
        from run join req on req.id = run.id
      returning id, run_id, lease_token, held_due_at
    ), created as (
      -- history seq 1, and seq 2 for a run handed to an engine (docs/contract.md#run-history)
      insert into run_events (run_id, seq, type, data)
      select id, 1, 'RUN_CREATED', jsonb_build_object('workflowName', workflow_name, 'workflowVersion', workflow_version,
                                                      'correlationId', correlation_id, 'idempotencyKey', idempotency_key)
        from run
      union all
      select id, 2, 'RUN_STATUS_CHANGED', '{"from": "PENDING", "to": "RUNNING", "error": null}'::jsonb
        from run where handed
      returning run_id
    ), handoff as (
      select pg_notify(e.channel, case when octet_length(h.payload) < 8000 then h.payload
                                       else json_build_object('i', item.id::text, 'r', run.id, 't', item.lease_token)::text end)
        from item
        join run on run.id = item.run_id and run.handed
        cross join engine e
        cross join lateral (
          select json_build_object('i', item.id::text, 'r', run.id, 't', item.lease_token, 'n', run.workflow_name,
                                   'v', run.workflow_version, 'in', run.input, 'cx', run.context, 'co', run.correlation_id,
                                   'tp', run.trace_parent, 'ts', run.trace_state, 'at', run.created_at)::text as payload
        ) h
    ), wake as (
      select pg_notify(${OUTBOX_CHANNEL}, '')
        from (select 1 from item where held_due_at is null and lease_token is null limit 1) any_run
    ), history as (
      select pg_notify(${EVENTS_CHANNEL}, ${runEventsPayload}) from created having count(*) > 0 and ${eventsAwaited}
    )
    select req.id::text as id, req.known, run.id is not null as created,
           (select count(*) from wake) + (select count(*) from history) + (select count(*) from handoff) as woken
      from req left join run on run.id = req.id
  `,
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * The run an idempotency key already started in the caller's scope: the same request gets it back, a different one
 * is a conflict. Another scope's run with the same key is never read (docs/security.md#idempotency-keys-per-api-key).
 */
async function replay(db: Db, p: PreparedStart): Promise<StartRunResult> {
  const existing = await db
    .selectFrom('workflow_runs')
    .select(['id', 'status', 'request_hash', 'correlation_id'])
    .where('workflow_name', '=', p.name)
    .where(sql<string>`coalesce(idempotency_scope, '')`, '=', p.args.idempotencyScope ?? '')
    .where('idempotency_key', '=', p.args.idempotencyKey ?? '')
    .executeTakeFirst();
  if (!existing) throw new Error('idempotency conflict without an existing run');
  if (existing.request_hash !== p.requestHash) {
    throw new ConflictError(`idempotency key "${p.args.idempotencyKey}" was already used with a different request`);
  }
  return { runId: existing.id, status: existing.status, created: false, correlationId: existing.correlation_id };
}

/** One start alone, re-reading the catalog while Postgres reports versions it did not know. */
async function startOne(
  db: Db,
  definitions: DefinitionCatalog,
  args: StartRunArgs,
  fresh: boolean,
): Promise<StartRunResult> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const p = await prepareStart(definitions, args, fresh || attempt > 0);
    const row = (await insertStarts(db, [p])).get(p.runId);
    if (row?.created) return { runId: p.runId, status: 'PENDING', created: true, correlationId: p.args.correlationId };
    if (row?.known) return replay(db, p);
  }
  throw new Error(`workflow ${args.workflowName} keeps getting new versions; start not inserted`);
}

/**
 * Starts a run: one statement inserts the run, its steps and the first outbox item, and wakes the engines. The
 * definition comes from `catalog` (cached); when no version is given, the statement also checks that Postgres holds
 * no version the catalog did not know, and inserts nothing otherwise (then the name is re-read and the start retried).
 * The same idempotency key with the same request returns the existing run; with a different request it is a conflict.
 */
export async function startRun(db: Db, args: StartRunArgs, catalog?: DefinitionCatalog): Promise<StartRunResult> {
  return startOne(db, catalogFor(db, catalog), args, false);
}

/**
 * Starts several runs in one statement (group commit of concurrent start requests); each settles on its own, in
 * order. Unknown workflows settle NotFoundError; a start that met a newer version, or an idempotency key already
 * used, is finished alone after the batch. Rejects only when the batched statement itself fails.
 */
export async function startRuns(
  db: Db,
  requests: readonly StartRunArgs[],
  catalog?: DefinitionCatalog,
): Promise<Array<Settlement<StartRunResult>>> {
  const definitions = catalogFor(db, catalog);
  const settlements: Array<Settlement<StartRunResult> | undefined> = new Array(requests.length);
  const prepared: Array<{ index: number; p: PreparedStart }> = [];
  for (let i = 0; i < requests.length; i++) {
    try {
      prepared.push({ index: i, p: await prepareStart(definitions, requests[i]!, false) });
    } catch (error) {
      settlements[i] = { ok: false, error };
    }
  }
  const inserted =
    prepared.length > 0
      ? await insertStarts(
          db,
          prepared.map((x) => x.p),
        )
      : new Map<string, InsertRow>();
  for (const { index, p } of prepared) {
    const row = inserted.get(p.runId);
    if (row?.created) {
      const value = { runId: p.runId, status: 'PENDING' as const, created: true, correlationId: p.args.correlationId };
      settlements[index] = { ok: true, value };
    }
  }
  for (const { index, p } of prepared) {
    if (settlements[index]) continue;
    try {
      const row = inserted.get(p.runId);
      settlements[index] = {
        ok: true,
        value: row?.known ? await replay(db, p) : await startOne(db, definitions, p.args, true),
      };
    } catch (error) {
      settlements[index] = { ok: false, error };
    }
  }
  return settlements as Array<Settlement<StartRunResult>>;
}
