import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import type { RunSearchFilter } from '../../src/index.js';

/**
 * The single-filter searches whose plans are checked (search-plans.test.ts) and measured at 10 M runs
 * (scripts/explain-search.ts, docs/performance.md#search), against runs seeded by search-seed.sql.
 */
export interface SearchCase {
  name: string;
  filter: RunSearchFilter;
  /** the indexes the plan may read workflow_runs through (one of them) */
  indexes: string[];
  /** no seeded run matches (a value the statistics have never seen) */
  none?: true;
}

const DAY_MS = 24 * 3600 * 1000;

/** Filter values that exist in a seed of `runs` runs, the time bounds relative to `now`. */
export function searchCases(runs: number, now = new Date()): SearchCase[] {
  const middle = 2 * Math.floor(runs / 4); // even: it has an idempotency key
  const dayAgo = new Date(now.getTime() - DAY_MS).toISOString();
  const weekAgo = new Date(now.getTime() - 7 * DAY_MS).toISOString();
  return [
    { name: 'no filter', filter: {}, indexes: ['workflow_runs_created'] },
    { name: 'status=FAILED', filter: { statuses: ['FAILED'] }, indexes: ['workflow_runs_status_created'] },
    { name: 'status=RUNNING', filter: { statuses: ['RUNNING'] }, indexes: ['workflow_runs_status_created'] },
    {
      name: 'status=FAILED,COMPENSATED',
      filter: { statuses: ['FAILED', 'COMPENSATED'] },
      indexes: ['workflow_runs_status_created', 'workflow_runs_created'],
    },
    { name: 'workflowName', filter: { workflowName: 'wf-3' }, indexes: ['workflow_runs_workflow_created'] },
    {
      name: 'workflowName+workflowVersion',
      filter: { workflowName: 'wf-3', workflowVersion: '2.0.0' },
      indexes: ['workflow_runs_workflow_created', 'workflow_runs_version_created'],
    },
    {
      name: 'workflowVersion',
      filter: { workflowVersion: '2.0.0' },
      indexes: ['workflow_runs_version_created', 'workflow_runs_created'],
    },
    {
      name: 'workflowVersion (none has it)',
      filter: { workflowVersion: '9.9.9' },
      indexes: ['workflow_runs_version_created'],
      none: true,
    },
    {
      name: 'correlationId',
      filter: { correlationId: `corr-${middle}` },
      indexes: ['workflow_runs_correlation_created'],
    },
    {
      name: 'idempotencyKey',
      filter: { idempotencyKey: `key-${middle}` },
      indexes: ['workflow_runs_idempotency_created'],
    },
    {
      name: 'errorCode',
      filter: { errorCode: 'DELIVERY_EXHAUSTED' },
      indexes: ['workflow_runs_error_code_created'],
    },
    { name: 'stepId', filter: { stepId: 'step-3' }, indexes: ['workflow_runs_error_step_created'] },
    { name: 'createdAfter (a day)', filter: { createdAfter: dayAgo }, indexes: ['workflow_runs_created'] },
    {
      name: 'createdAfter+createdBefore (a day, a week ago)',
      filter: { createdAfter: new Date(Date.parse(weekAgo) - DAY_MS).toISOString(), createdBefore: weekAgo },
      indexes: ['workflow_runs_created'],
    },
    {
      name: 'input (one order)',
      filter: { input: { orderId: `ord-${middle}` } },
      indexes: ['workflow_runs_input_contains', 'workflow_runs_created'],
    },
    {
      name: 'context (one tenant of 500)',
      filter: { context: { tenantId: 't-7' } },
      indexes: ['workflow_runs_context_contains', 'workflow_runs_created'],
    },
  ];
}

/** The counts checked and measured: a one-day time bound, alone and with a status. */
export function countCases(now = new Date()): SearchCase[] {
  const dayAgo = new Date(now.getTime() - DAY_MS).toISOString();
  return [
    { name: 'counts, a day', filter: { createdAfter: dayAgo }, indexes: ['workflow_runs_created'] },
    {
      name: 'counts, a day, status=FAILED',
      filter: { createdAfter: dayAgo, statuses: ['FAILED'] },
      indexes: ['workflow_runs_status_created', 'workflow_runs_created'],
    },
  ];
}

/** Seeds `runs` runs (and 20 × 3 definitions) with search-seed.sql; then ANALYZE. */
export async function seedSearchRuns(client: pg.Client, runs: number): Promise<void> {
  const text = await readFile(new URL('./search-seed.sql', import.meta.url), 'utf8');
  await client.query(text.replaceAll(':runs', String(runs)));
  await client.query('vacuum analyze workflow_runs');
}
