import type { RetryPolicyInput, StepDefinition, WorkflowDefinition } from '@sagaflow/definitions';

export interface StepSpec {
  id: string;
  /** give the step a compensation `<id>-undo` at <baseUrl>/<workflow>/<id>/undo */
  compensated?: boolean;
  timeoutMs?: number;
  retry?: RetryPolicyInput;
  compensationRetry?: RetryPolicyInput;
}

/** Downstream path of a step's action. */
export function actionPath(workflow: string, stepId: string): string {
  return `/${workflow}/${stepId}`;
}

/** Downstream path of a step's compensation. */
export function compensationPath(workflow: string, stepId: string): string {
  return `/${workflow}/${stepId}/undo`;
}

/**
 * A linear workflow whose steps POST the envelope to absolute URLs on one loopback downstream, so several
 * workflows can share it without colliding.
 */
export function buildWorkflow(name: string, baseUrl: string, steps: readonly StepSpec[]): WorkflowDefinition {
  return {
    name,
    version: '1.0.0',
    steps: steps.map((spec): StepDefinition => ({
      id: spec.id,
      request: { method: 'POST', url: `${baseUrl}${actionPath(name, spec.id)}` },
      ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
      ...(spec.retry ? { retry: spec.retry } : {}),
      ...(spec.compensated
        ? {
            compensation: {
              id: `${spec.id}-undo`,
              request: { method: 'POST' as const, url: `${baseUrl}${compensationPath(name, spec.id)}` },
              ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
              retry: spec.compensationRetry ?? { maxAttempts: 20, initialIntervalMs: 20, maxIntervalMs: 200 },
            },
          }
        : {}),
    })),
  };
}
