import type { OperationFilter, RunError, RunFilters, RunStatus } from '@sagaflow/client';
import type { OptionSpec } from './command.js';
import { UsageError } from './errors.js';
import { readJsonObject } from './input.js';

const RUN_STATUSES: readonly RunStatus[] = [
  'PENDING',
  'RUNNING',
  'COMPENSATING',
  'CANCELLING',
  'COMPLETED',
  'COMPENSATED',
  'FAILED',
  'CANCELLED',
];

/** The run filter flags of `runs list`, `runs counts` and `ops create`, as commander hands them over. */
export interface FilterFlags {
  status?: string;
  workflow?: string;
  workflowVersion?: string;
  correlationId?: string;
  idempotencyKey?: string;
  errorCode?: string;
  step?: string;
  createdAfter?: string;
  createdBefore?: string;
  input?: string;
  context?: string;
}

/** The same flags on every command that selects runs (SPEC §13 filters, combined with AND). */
export const FILTER_OPTIONS: OptionSpec[] = [
  {
    flags: '-s, --status <statuses>',
    description: `any of these statuses, comma-separated (${RUN_STATUSES.join(',')})`,
  },
  { flags: '-w, --workflow <name>', description: 'runs of this workflow' },
  { flags: '--workflow-version <version>', description: 'runs of this workflow version' },
  { flags: '--correlation-id <id>', description: 'runs with this correlation id' },
  { flags: '--idempotency-key <key>', description: 'the run started with this idempotency key' },
  { flags: '--error-code <code>', description: 'runs whose error has this code (e.g. STEP_FAILED)' },
  { flags: '--step <stepId>', description: 'runs that failed at this step' },
  { flags: '--created-after <time>', description: 'created at or after this time (ISO 8601)' },
  { flags: '--created-before <time>', description: 'created before this time (ISO 8601)' },
  { flags: '--input <json|@file>', description: 'runs whose input contains this JSON object' },
  {
    flags: '--context <json|@file>',
    description: 'runs whose context contains this JSON object, e.g. {"tenantId":"acme"}',
  },
];

function parseStatuses(value: string): RunStatus[] {
  const statuses = value
    .split(',')
    .map((status) => status.trim().toUpperCase())
    .filter(Boolean);
  const unknown = statuses.filter((status) => !RUN_STATUSES.includes(status as RunStatus));
  if (statuses.length === 0 || unknown.length > 0) {
    throw new UsageError(
      `--status: unknown status "${unknown.join(',') || value}" (one of ${RUN_STATUSES.join(', ')})`,
    );
  }
  return statuses as RunStatus[];
}

function parseTime(value: string, flag: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`${flag}: expected an ISO 8601 time, got "${value}"`);
  return new Date(ms).toISOString();
}

/** The filter flags as the SDK's filter (a usage error, exit 2, for a bad status, time or JSON). */
export function parseFilters(flags: FilterFlags): RunFilters & OperationFilter {
  return {
    ...(flags.status !== undefined ? { status: parseStatuses(flags.status) } : {}),
    ...(flags.workflow !== undefined ? { workflowName: flags.workflow } : {}),
    ...(flags.workflowVersion !== undefined ? { workflowVersion: flags.workflowVersion } : {}),
    ...(flags.correlationId !== undefined ? { correlationId: flags.correlationId } : {}),
    ...(flags.idempotencyKey !== undefined ? { idempotencyKey: flags.idempotencyKey } : {}),
    ...(flags.errorCode !== undefined ? { errorCode: flags.errorCode as RunError['code'] } : {}),
    ...(flags.step !== undefined ? { stepId: flags.step } : {}),
    ...(flags.createdAfter !== undefined ? { createdAfter: parseTime(flags.createdAfter, '--created-after') } : {}),
    ...(flags.createdBefore !== undefined ? { createdBefore: parseTime(flags.createdBefore, '--created-before') } : {}),
    ...(flags.input !== undefined ? { input: readJsonObject(flags.input, '--input') } : {}),
    ...(flags.context !== undefined ? { context: readJsonObject(flags.context, '--context') } : {}),
  };
}

/** A whole number ≥ 1 from a flag. */
export function parseCount(value: string, flag: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1)
    throw new UsageError(`${flag}: expected a whole number ≥ 1, got "${value}"`);
  return count;
}
