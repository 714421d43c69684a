import type { RetryPolicyInput, StepDefinition, WorkflowDefinition } from '@sagaflow/definitions';

export interface StepSpec {
  id: string;
  /** give the step a compensation called `undo-<id>` at <baseUrl>/<id>/compensate */
  compensated?: boolean;
  timeoutMs?: number;
  retry?: RetryPolicyInput;
}

/**
 * A linear definition whose steps POST (the envelope) to absolute URLs on a loopback downstream:
 * action <baseUrl>/<stepId>, compensation <baseUrl>/<stepId>/compensate.
 */
export function buildDefinition(name: string, baseUrl: string, steps: readonly StepSpec[]): WorkflowDefinition {
  return {
    name,
    version: '1.0.0',
    steps: steps.map((spec): StepDefinition => ({
      id: spec.id,
      request: { method: 'POST', url: `${baseUrl}/${spec.id}` },
      ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
      ...(spec.retry ? { retry: spec.retry } : {}),
      ...(spec.compensated
        ? {
            compensation: {
              id: `undo-${spec.id}`,
              request: { method: 'POST', url: `${baseUrl}/${spec.id}/compensate` },
              retry: { maxAttempts: 3, initialIntervalMs: 50 },
            },
          }
        : {}),
    })),
  };
}
