import { sql } from 'kysely';
import type { Db } from '../pool.js';
import type { CompensationStatus, RunError, RunStatus, StepStatus } from '../schema.js';

/** A run as the REST API shows it (docs/contract.md#rest-api). */
export interface RunView {
  run: {
    runId: string;
    workflowName: string;
    workflowVersion: string;
    status: RunStatus;
    error: RunError | null;
    input: unknown;
    context: unknown;
    correlationId: string;
    /** the run's own pause flag (docs/contract.md#pause); false once terminal */
    paused: boolean;
    createdAt: string;
    updatedAt: string;
    completedAt: string | null;
  };
  steps: Array<{
    stepId: string;
    status: StepStatus;
    attempts: number;
    compensationStatus: CompensationStatus;
    compensationAttempts: number;
    output: unknown;
    error: Record<string, unknown> | null;
    startedAt: string | null;
    finishedAt: string | null;
    /** when the scheduled retry of this step (or of its compensation) is due; null when none is scheduled */
    nextAttemptAt: string | null;
  }>;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export async function getRun(db: Db, runId: string): Promise<RunView | undefined> {
  const run = await db.selectFrom('workflow_runs').selectAll().where('id', '=', runId).executeTakeFirst();
  if (!run) return undefined;
  const steps = await db
    .selectFrom('run_steps')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('step_index')
    .execute();
  // a retry is the run's live item waiting, unleased, for a later due time (a held item keeps it in held_due_at)
  const retry = await db
    .selectFrom('outbox')
    .select(['step_index', sql<Date>`coalesce(held_due_at, due_at)`.as('due_at')])
    .where('run_id', '=', runId)
    .where('status', '=', 'READY')
    .where('lease_token', 'is', null)
    .where(sql<boolean>`coalesce(held_due_at, due_at) > now()`)
    .executeTakeFirst();
  return {
    run: {
      runId: run.id,
      workflowName: run.workflow_name,
      workflowVersion: run.workflow_version,
      status: run.status,
      error: run.error,
      input: run.input,
      context: run.context,
      correlationId: run.correlation_id,
      paused: run.paused_at !== null,
      createdAt: run.created_at.toISOString(),
      updatedAt: run.updated_at.toISOString(),
      completedAt: iso(run.completed_at),
    },
    steps: steps.map((s) => ({
      stepId: s.step_id,
      status: s.status,
      attempts: s.attempts,
      compensationStatus: s.compensation_status,
      compensationAttempts: s.compensation_attempts,
      output: s.output ?? null,
      error: s.error,
      startedAt: iso(s.started_at),
      finishedAt: iso(s.finished_at),
      nextAttemptAt: retry?.step_index === s.step_index ? retry.due_at.toISOString() : null,
    })),
  };
}
