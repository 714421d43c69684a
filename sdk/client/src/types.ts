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
export type RedriveAccepted = components['schemas']['RedriveAccepted'];
export type RunPauseState = components['schemas']['RunPauseState'];
export type WorkflowPauseState = components['schemas']['WorkflowPauseState'];
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

export type RunSummary = components['schemas']['RunSummary'];
export type RunPage = components['schemas']['RunPage'];
export type RunCounts = components['schemas']['RunCounts'];
export type WorkflowSummary = components['schemas']['WorkflowSummary'];
export type Whoami = components['schemas']['Whoami'];
/** A registered version: `definition` exactly as registered, its `sha256`, when it was registered. */
export type RegisteredDefinition = Omit<components['schemas']['RegisteredDefinition'], 'definition'> & {
  definition: WorkflowDefinition;
};

/** The filters of `runs.list`, `runs.listAll` and `runs.counts` (all optional, combined with AND). */
export interface RunFilters {
  /** one status or several (any of them) */
  status?: RunStatus | readonly RunStatus[];
  workflowName?: string;
  workflowVersion?: string;
  correlationId?: string;
  idempotencyKey?: string;
  /** `error.code` */
  errorCode?: RunError['code'];
  /** `error.stepId`: the step the run failed at */
  stepId?: string;
  /** inclusive */
  createdAfter?: Date | string;
  /** exclusive */
  createdBefore?: Date | string;
  /** runs whose input contains this object */
  input?: Record<string, unknown>;
  /** runs whose context contains this object, e.g. `{ tenantId: 'acme' }` */
  context?: Record<string, unknown>;
  /** only runs waiting for a retry now (an extension of the spec, for the console's "retrying now") */
  retrying?: boolean;
}
export type Schedule = components['schemas']['Schedule'];
export type ScheduleRequest = components['schemas']['ScheduleRequest'];
export type ScheduleTriggered = components['schemas']['ScheduleTriggered'];

/** Statuses after which a run never changes again (docs/contract.md#run-lifecycle). */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED'];

export function isTerminalRunStatus(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}
