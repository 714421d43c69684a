import { sql, type Expression, type SqlBool } from 'kysely';
import type { OperationAction } from '../schema.js';

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
      // planPause: not terminal, not being cancelled, not paused already
      return sql<SqlBool>`completed_at is null and cancel_requested_at is null and paused_at is null`;
    case 'resume':
      return sql<SqlBool>`paused_at is not null`;
  }
}
