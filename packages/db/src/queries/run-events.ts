import type { RunEvent, RunEventType } from '@sagaflow/saga';
import { sql } from 'kysely';
import type { Db } from '../pool.js';
import type { AttemptKind, RunStatus } from '../schema.js';
import { TERMINAL_RUN_STATUSES } from '@sagaflow/saga';

export interface RunEventsPage {
  events: RunEvent[];
  /** the run is terminal now (read in the same statement as the events) */
  terminal: boolean;
}

interface Row {
  status: RunStatus;
  events: Array<{
    seq: number;
    at: string;
    type: RunEventType;
    step_id: string | null;
    kind: AttemptKind | null;
    attempt: number | null;
    data: Record<string, unknown>;
  }> | null;
}

/** A page of a run's history: up to `limit` events with seq > `after`, in order. undefined: no such run. */
export async function readRunEvents(
  db: Db,
  runId: string,
  after: number,
  limit: number,
): Promise<RunEventsPage | undefined> {
  const { rows } = await sql<Row>`
    select r.status,
           (select json_agg(json_build_object('seq', e.seq, 'at', e.at, 'type', e.type, 'step_id', e.step_id,
                                              'kind', e.kind, 'attempt', e.attempt, 'data', e.data) order by e.seq)
              from (select * from run_events where run_id = r.id and seq > ${after} order by seq limit ${limit}) e) as events
      from workflow_runs r where r.id = ${runId}
  `.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  return {
    terminal: TERMINAL_RUN_STATUSES.includes(row.status),
    events: (row.events ?? []).map((e) => ({
      seq: e.seq,
      at: new Date(e.at).toISOString(),
      type: e.type,
      stepId: e.step_id,
      kind: e.kind,
      attempt: e.attempt,
      data: e.data,
    })),
  };
}
