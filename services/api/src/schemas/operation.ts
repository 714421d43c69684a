import { z } from 'zod';
import { dateFilterSchema } from './date-filter.js';
import { jsonObjectSchema } from './json.js';
import { runStatusSchema, slugSchema } from './run.js';

/** Bulk operations (docs/api.md#bulk-operations): the request, the dry run, the operation and its pages. */

const timestampSchema = z.iso.datetime({ offset: true });

const containsSchema = jsonObjectSchema.refine((value) => Object.keys(value).length > 0, {
  message: 'an empty object matches every run: name at least one key',
});

/**
 * The filters of GET /v1/runs as a JSON object: `status` an array, `input`/`context` objects. Unknown keys are refused
 * (a misspelt filter must not widen an operation to more runs), and so is a filter without any condition.
 */
export const operationFilterSchema = z
  .strictObject({
    status: z.array(runStatusSchema).min(1).max(8).optional().meta({ description: 'Any of these statuses' }),
    workflowName: slugSchema.optional(),
    workflowVersion: z.string().min(1).max(64).optional(),
    correlationId: z.string().min(1).max(200).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
    errorCode: z.string().min(1).max(64).optional().meta({ description: "The run error's code" }),
    stepId: slugSchema.optional().meta({ description: "The run error's stepId (the step that failed)" }),
    createdAfter: dateFilterSchema('createdAfter', 'Created at or after (ISO 8601)').optional(),
    createdBefore: dateFilterSchema('createdBefore', 'Created before (ISO 8601)').optional(),
    input: containsSchema.optional().meta({ description: 'Runs whose input contains this object' }),
    context: containsSchema.optional().meta({ description: 'Runs whose context contains this object' }),
  })
  .refine((filter) => Object.values(filter).some((value) => value !== undefined), {
    message: 'the filter is empty: name at least one condition (an operation on every run is refused)',
  })
  .meta({ id: 'OperationFilter' });

export type OperationFilter = z.infer<typeof operationFilterSchema>;

const actionSchema = z.enum(['cancel', 'redrive', 'pause', 'resume']).meta({ id: 'OperationAction' });

export const createOperationInputSchema = z.strictObject({
  action: actionSchema,
  filter: operationFilterSchema,
  dryRun: z.boolean().default(false).meta({ description: 'true: count what would be acted on (200), create nothing' }),
  ratePerSecond: z.number().int().min(1).max(1000).default(50).meta({ description: 'Runs per second, at most' }),
  reason: z.string().min(1).max(1000).optional().meta({ description: "Recorded in each run's OPERATOR_ACTION event" }),
});

export const operationDryRunSchema = z
  .object({
    dryRun: z.literal(true),
    matched: z.number().int().meta({ description: 'Runs the filter matches now' }),
    eligible: z.number().int().meta({ description: 'Matched runs the action applies to now' }),
    sample: z.array(z.uuid()).meta({ description: 'Up to 10 eligible run ids, newest first' }),
  })
  .meta({ id: 'OperationDryRun' });

export const operationCreatedSchema = z
  .object({
    operationId: z.uuid(),
    matched: z.number().int().meta({ description: "The operation's runs: those the filter matched at creation" }),
  })
  .meta({ id: 'OperationCreated' });

export const createOperationOutputSchema = z.union([operationDryRunSchema, operationCreatedSchema]);

export const operationSchema = z
  .object({
    operationId: z.uuid(),
    action: actionSchema,
    status: z.enum(['RUNNING', 'COMPLETED', 'CANCELLED']),
    filter: z.record(z.string(), z.unknown()).meta({ description: 'The filter as it was given' }),
    reason: z.string().nullable(),
    ratePerSecond: z.number().int(),
    total: z.number().int().meta({ description: 'Runs matched at creation' }),
    succeeded: z.number().int().meta({ description: 'Runs the action was applied to' }),
    skipped: z.number().int().meta({ description: 'Runs no longer eligible when their turn came' }),
    failed: z.number().int(),
    errors: z
      .array(z.object({ runId: z.uuid(), reason: z.string() }))
      .meta({ description: 'The first 100 failed runs, in the order they failed' }),
    createdAt: timestampSchema,
    finishedAt: timestampSchema.nullable(),
  })
  .meta({ id: 'Operation' });

export const operationIdInputSchema = z.object({
  operationId: z.uuid().meta({ description: 'Operation id (UUID)' }),
});

export const listOperationsInputSchema = z.object({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'an integer 1–100')
    .default('20')
    .transform(Number)
    .pipe(z.number().int().min(1).max(100))
    .meta({ description: 'At most this many operations (1–100, default 20)' }),
  cursor: z.string().max(200).optional().meta({ description: "The previous page's nextCursor (opaque)" }),
});

export const operationsPageSchema = z
  .object({
    items: z.array(operationSchema),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last' }),
  })
  .meta({ id: 'OperationsPage' });

export const operationCancelledSchema = z
  .object({ operationId: z.uuid(), status: z.enum(['RUNNING', 'COMPLETED', 'CANCELLED']) })
  .meta({ id: 'OperationCancelAccepted' });
