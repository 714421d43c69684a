import type { Db } from '@sagaflow/db';
import type { Snapshot } from './types.js';

/** Reads every run, step, attempt, outbox, history and signal row of a scenario's database (each scenario owns its database). */
export async function loadSnapshot(db: Db): Promise<Snapshot> {
  const [runs, steps, attempts, outbox, events, signals] = await Promise.all([
    db
      .selectFrom('workflow_runs')
      .select(['id', 'status', 'error', 'cancel_requested_at', 'paused_at', 'completed_at'])
      .execute(),
    db
      .selectFrom('run_steps')
      .select([
        'run_id',
        'step_index',
        'step_id',
        'status',
        'attempts',
        'compensation_status',
        'compensation_attempts',
        'output',
        'error',
      ])
      .orderBy('run_id')
      .orderBy('step_index')
      .execute(),
    db
      .selectFrom('step_attempts')
      .select(['id', 'run_id', 'step_index', 'kind', 'attempt_no', 'outcome', 'http_status', 'error'])
      .orderBy('id')
      .execute(),
    db.selectFrom('outbox').select(['run_id', 'step_index', 'kind', 'status', 'last_error']).execute(),
    db
      .selectFrom('run_events')
      .select(['run_id', 'seq', 'type', 'step_id', 'kind', 'attempt', 'data'])
      .orderBy('run_id')
      .orderBy('seq')
      .execute(),
    db.selectFrom('run_signals').select(['id', 'run_id', 'name', 'consumed_by']).orderBy('seq').execute(),
  ]);
  const waited = new Set(events.filter((e) => e.type === 'STEP_WAITING').map((e) => `${e.run_id}:${e.step_id}`));
  return {
    runs: runs.map((r) => ({
      id: r.id,
      status: r.status,
      error: r.error,
      cancelRequested: r.cancel_requested_at !== null,
      paused: r.paused_at !== null,
      completedAt: r.completed_at?.getTime() ?? null,
    })),
    steps: steps.map((s) => ({
      runId: s.run_id,
      index: s.step_index,
      stepId: s.step_id,
      status: s.status,
      attempts: s.attempts,
      compensationStatus: s.compensation_status,
      compensationAttempts: s.compensation_attempts,
      output: s.output,
      error: s.error,
      waited: waited.has(`${s.run_id}:${s.step_id}`),
    })),
    attempts: attempts.map((a) => ({
      id: Number(a.id),
      runId: a.run_id,
      stepIndex: a.step_index,
      kind: a.kind,
      attemptNo: a.attempt_no,
      outcome: a.outcome,
      httpStatus: a.http_status,
      error: a.error,
    })),
    outbox: outbox.map((o) => ({
      runId: o.run_id,
      stepIndex: o.step_index,
      kind: o.kind,
      status: o.status,
      lastError: o.last_error,
    })),
    events: events.map((e) => ({
      runId: e.run_id,
      seq: e.seq,
      type: e.type,
      stepId: e.step_id,
      kind: e.kind,
      attempt: e.attempt,
      data: e.data,
    })),
    signals: signals.map((s) => ({ id: s.id, runId: s.run_id, name: s.name, consumedBy: s.consumed_by })),
  };
}
