import type { components } from './schema.js';

/** Named types of the API, from the generated OpenAPI types. */
export type RunView = components['schemas']['RunView'];
export type Run = components['schemas']['Run'];
export type Step = components['schemas']['Step'];
export type RunStatus = components['schemas']['RunStatus'];
export type StepStatus = components['schemas']['StepStatus'];
export type CompensationStatus = components['schemas']['CompensationStatus'];
export type RunError = components['schemas']['RunError'];
export type WorkflowDefinition = components['schemas']['WorkflowDefinition'];
export type StartRunRequest = components['schemas']['StartRunRequest'];
export type WorkflowRegistered = components['schemas']['WorkflowRegistered'];
export type ErrorBody = components['schemas']['Error'];
export type RunEvent = components['schemas']['RunEvent'];
export type RunEventsPage = components['schemas']['RunEventsPage'];
export type Operation = components['schemas']['Operation'];
export type OperationAction = components['schemas']['OperationAction'];
export type OperationFilter = components['schemas']['OperationFilter'];
export type OperationDryRun = components['schemas']['OperationDryRun'];
export type OperationCreated = components['schemas']['OperationCreated'];
export type OperationsPage = components['schemas']['OperationsPage'];

/** The body of `POST /v1/admin/operations`; `dryRun` (false), `ratePerSecond` (50) and `reason` are optional. */
export interface CreateOperationRequest {
  action: OperationAction;
  filter: OperationFilter;
  dryRun?: boolean;
  ratePerSecond?: number;
  reason?: string;
}

/** Statuses after which a run never changes again (docs/contract.md#run-lifecycle). */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED'];

export function isTerminalRunStatus(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}
