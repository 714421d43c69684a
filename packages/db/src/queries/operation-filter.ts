import { sql, type Expression, type SqlBool } from 'kysely';
import type { OperationAction, RunStatus } from '../schema.js';

/**
 * The filters of GET /v1/runs as a bulk operation takes them (SPEC §13): all optional, combined with AND.
 * TODO(integration): the search branch's runFilterConditions (search-runs.ts) replaces this module once merged.
 */
export interface RunFilter {
  statuses?: readonly RunStatus[];
  workflowName?: string;
  workflowVersion?: string;
  correlationId?: string;
  idempotencyKey?: string;
  errorCode?: string;
  stepId?: string;
  createdAfter?: string;
  createdBefore?: string;
  input?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

/** The filter as SQL conditions on workflow_runs. */
export function runFilterConditions(filter: RunFilter): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = [];
  if (filter.statuses && filter.statuses.length > 0) {
    conditions.push(sql<SqlBool>`status in (${sql.join([...filter.statuses])})`);
  }
  if (filter.workflowName !== undefined) conditions.push(sql<SqlBool>`workflow_name = ${filter.workflowName}`);
  if (filter.workflowVersion !== undefined) conditions.push(sql<SqlBool>`workflow_version = ${filter.workflowVersion}`);
  if (filter.correlationId !== undefined) conditions.push(sql<SqlBool>`correlation_id = ${filter.correlationId}`);
  if (filter.idempotencyKey !== undefined) conditions.push(sql<SqlBool>`idempotency_key = ${filter.idempotencyKey}`);
  if (filter.errorCode !== undefined) {
    conditions.push(sql<SqlBool>`error is not null and (error ->> 'code') = ${filter.errorCode}`);
  }
  if (filter.stepId !== undefined) {
    conditions.push(sql<SqlBool>`error is not null and (error ->> 'stepId') = ${filter.stepId}`);
  }
  if (filter.createdAfter !== undefined)
    conditions.push(sql<SqlBool>`created_at >= ${filter.createdAfter}::timestamptz`);
  if (filter.createdBefore !== undefined)
    conditions.push(sql<SqlBool>`created_at < ${filter.createdBefore}::timestamptz`);
  if (filter.input !== undefined) conditions.push(sql<SqlBool>`input @> ${JSON.stringify(filter.input)}::jsonb`);
  if (filter.context !== undefined) conditions.push(sql<SqlBool>`context @> ${JSON.stringify(filter.context)}::jsonb`);
  return conditions;
}

/**
 * Which matched runs an action applies to, as one condition on workflow_runs: the dry run's `eligible` and `sample`.
 * The action's own check, when a run's turn comes, decides; a run that fails it then is `skipped`.
 */
export function eligibleCondition(action: OperationAction): Expression<SqlBool> {
  switch (action) {
    case 'cancel':
      return sql<SqlBool>`status in ('PENDING', 'RUNNING')`;
    case 'redrive':
      // the two cases of redrive: a failed compensation, or a forward failure of a run that was not cancelled
      return sql<SqlBool>`status = 'FAILED' and ((error ->> 'code') = 'COMPENSATION_FAILED' or ((error ->> 'code') in
        ('STEP_FAILED', 'DELIVERY_EXHAUSTED', 'TEMPLATE_ERROR') and cancel_requested_at is null))`;
    case 'pause':
      return sql<SqlBool>`status in ('PENDING', 'RUNNING', 'COMPENSATING') and cancel_requested_at is null`;
    case 'resume':
      return sql<SqlBool>`false`;
  }
}
