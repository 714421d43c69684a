import { leaseStep, type StepState } from '@sagaflow/saga';
import { sql } from 'kysely';
import type { Db } from '../pool.js';
import { ITEM_OVERHEAD_BYTES, type ClaimedItem } from './claim-outbox-batch.js';

/**
 * The engine registry (table `engines`, docs/architecture.md#the-first-step-handed-to-an-engine): a start statement
 * leases its run's first item to a live engine with free slots and NOTIFYs that engine on its own channel with
 * everything the attempt needs, so the first request leaves without a claim round trip.
 */

/** How an engine describes itself to the starts. */
export interface EngineRegistration {
  id: string;
  channel: string;
  /** pg_backend_pid() of the connection LISTENing on `channel` */
  listenPid: number;
  leaseMs: number;
  freeSlots: number;
  /** the row is ignored this long after this refresh unless refreshed again */
  ttlMs: number;
}

/** The LISTEN channel of an engine: a lower-case identifier Postgres takes unquoted. */
export function handoffChannel(random: string): string {
  return `sagaflow_handoff_${random.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
}

/** Inserts or refreshes the engine's row. Returns the database's clock when it did (epoch ms). */
export async function refreshEngine(db: Db, e: EngineRegistration): Promise<number> {
  const { rows } = await sql<{ now_ms: number }>`
    insert into engines (id, channel, listen_pid, lease_ms, free_slots, expires_at)
    values (${e.id}, ${e.channel}, ${e.listenPid}, ${e.leaseMs}, ${Math.max(0, e.freeSlots)},
            now() + ${e.ttlMs} * interval '1 millisecond')
    on conflict (id) do update
      set channel = excluded.channel, listen_pid = excluded.listen_pid, lease_ms = excluded.lease_ms,
          free_slots = excluded.free_slots, expires_at = excluded.expires_at
    returning (extract(epoch from clock_timestamp()) * 1000)::float8 as now_ms
  `.execute(db);
  return Number(rows[0]!.now_ms);
}

/** The engine is stopping: starts hand it nothing more. Expired rows of engines that died go too. */
export async function removeEngine(db: Db, id: string): Promise<void> {
  await sql`delete from engines where id = ${id} or expires_at < now() - interval '1 hour'`.execute(db);
}

/**
 * The NOTIFY payload of a handed item (keys kept short: a payload must stay under 8,000 bytes). A start whose payload
 * would not fit sends only `i`, `r` and `t`: the engine hands that item back to the outbox (releaseLeases) and the
 * ordinary claim takes it.
 */
export interface HandoffPayload {
  /** outbox item id */
  i: string;
  /** run id */
  r: string;
  /** lease token */
  t: string;
  /** workflow name and version */
  n?: string;
  v?: string;
  in?: Record<string, unknown>;
  cx?: Record<string, unknown>;
  co?: string;
  tp?: string | null;
  ts?: string | null;
  /** the run's created_at: when the start leased the item, for `lease_ms` (database clock) */
  at?: string;
}

/** A payload with everything an attempt needs (not the short form of an oversized one). */
export function isCompleteHandoff(p: HandoffPayload): p is Required<HandoffPayload> {
  return p.n !== undefined && p.v !== undefined && p.in !== undefined && p.at !== undefined;
}

/**
 * The item a start handed over, as a claim would have returned it: the run was inserted RUNNING with its first step
 * RUNNING and two history events (RUN_CREATED, RUN_STATUS_CHANGED), nothing else of it has happened yet.
 * `steps` are the definition's steps, in order; `payloadLength` the length of the NOTIFY payload (its bytes, about).
 */
export function handedItem(
  p: Required<HandoffPayload>,
  steps: ReadonlyArray<{ id: string; compensation?: unknown }>,
  payloadLength: number,
): ClaimedItem {
  const states: StepState[] = steps.map((s, index) => ({
    index,
    stepId: s.id,
    status: 'PENDING',
    compensationStatus: s.compensation === undefined ? 'NONE' : 'PENDING',
    error: null,
    attempts: 0,
    attemptsBeforeRetry: 0,
    compensationAttempts: 0,
    compensationAttemptsBeforeRetry: 0,
    wait: null,
  }));
  const first = states[0];
  if (!first) throw new Error(`run ${p.r}: its definition has no steps`);
  states[0] = leaseStep(first, 'action');
  return {
    id: p.i,
    runId: p.r,
    stepIndex: 0,
    kind: 'action',
    leaseToken: p.t,
    started: true,
    deliveries: 1,
    stepId: first.stepId,
    attemptsMade: 0,
    attemptsBeforeRetry: 0,
    run: {
      workflowName: p.n,
      workflowVersion: p.v,
      input: p.in,
      context: p.cx,
      correlationId: p.co,
      traceParent: p.tp,
      traceState: p.ts,
    },
    outputs: {},
    state: {
      runId: p.r,
      status: 'RUNNING',
      error: null,
      workflowName: p.n,
      correlationId: p.co,
      createdAt: new Date(p.at),
      cancelRequested: false,
      paused: false,
      workflowPaused: false,
      eventSeq: 2,
      steps: states,
    },
    stateStale: false,
    payloadBytes: ITEM_OVERHEAD_BYTES + payloadLength,
  };
}
