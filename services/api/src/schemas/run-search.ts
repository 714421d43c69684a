import { z } from 'zod';
import { dateFilterSchema } from './date-filter.js';
import { jsonObjectSchema } from './json.js';
import { runErrorSchema, runStatusSchema, slugSchema } from './run.js';

/** Run search and counts (SPEC §13, docs/api.md#search-runs): the query, a RunSummary, a page, the counts. */

const timestampSchema = z.iso.datetime({ offset: true });

/** `status=FAILED,COMPENSATED`: a comma list of run statuses (duplicates ignored). */
const statusListSchema = z
  .string()
  .max(200)
  .transform((text, ctx) => {
    const statuses = [...new Set(text.split(',').map((part) => part.trim()))];
    for (const status of statuses) {
      if (!runStatusSchema.safeParse(status).success) {
        ctx.addIssue({ code: 'custom', message: `unknown run status "${status.slice(0, 40)}"` });
        return z.NEVER;
      }
    }
    return statuses as Array<z.infer<typeof runStatusSchema>>;
  })
  .meta({ description: 'Comma list of run statuses, e.g. `FAILED,COMPENSATED`', example: 'FAILED' });

/** `input={"tenantId":"acme"}`: a JSON object in a query parameter. */
function containmentSchema(name: 'input' | 'context') {
  return z
    .string()
    .max(8192)
    .transform((text, ctx) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${name} must be a JSON object, e.g. {"tenantId":"acme"}` });
        return z.NEVER;
      }
      const parsed = jsonObjectSchema.safeParse(value);
      if (!parsed.success || Array.isArray(value)) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a JSON object, e.g. {"tenantId":"acme"}` });
        return z.NEVER;
      }
      return parsed.data;
    })
    .meta({
      description: `A JSON object: runs whose ${name} contains it (Postgres jsonb @>), e.g. {"tenantId":"acme"}`,
      example: '{"tenantId":"acme"}',
    });
}

/** The filters of GET /v1/runs and GET /v1/runs/counts (all optional, combined with AND). */
export const runFilterQueryShape = {
  status: statusListSchema.optional(),
  workflowName: slugSchema.optional().meta({ description: 'Workflow name' }),
  workflowVersion: z.string().min(1).max(64).optional().meta({ description: 'Workflow version' }),
  correlationId: z.string().min(1).max(200).optional().meta({ description: "The run's correlation id" }),
  idempotencyKey: z.string().min(1).max(200).optional().meta({ description: "The start's idempotency key" }),
  errorCode: runErrorSchema.shape.code.optional().meta({ description: '`error.code` of the run' }),
  stepId: slugSchema.optional().meta({ description: '`error.stepId`: the step the run failed at' }),
  createdAfter: dateFilterSchema('createdAfter', 'Created at or after (ISO 8601, inclusive)').optional(),
  createdBefore: dateFilterSchema('createdBefore', 'Created before (ISO 8601, exclusive)').optional(),
  input: containmentSchema('input').optional(),
  context: containmentSchema('context').optional(),
  retrying: z.enum(['true']).optional().meta({
    description:
      '`true`: only runs waiting for a retry now (a step attempt was retryable and its next attempt is scheduled; not sleeps or signal waits). An extension of the spec, for the console',
  }),
};

export const runCountsInputSchema = z.object(runFilterQueryShape);

export const runSearchInputSchema = z.object({
  ...runFilterQueryShape,
  limit: z
    .string()
    .regex(/^\d{1,9}$/, 'a non-negative integer')
    .default('50')
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .meta({ description: 'Page size (1–500, default 50)' }),
  cursor: z
    .string()
    .max(1000)
    .optional()
    .meta({ description: "The previous page's `nextCursor`, with the same filters" }),
});

export type RunSearchInput = z.infer<typeof runSearchInputSchema>;

export const runSummarySchema = z
  .object({
    runId: z.uuid(),
    workflowName: z.string(),
    workflowVersion: z.string(),
    status: runStatusSchema,
    error: runErrorSchema.nullable(),
    correlationId: z.string(),
    paused: z.boolean().meta({ description: 'Paused by an operator (the status keeps its value)' }),
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
    completedAt: timestampSchema.nullable(),
  })
  .meta({ id: 'RunSummary' });

export const runSearchPageSchema = z
  .object({
    items: z.array(runSummarySchema).meta({ description: 'Newest first (createdAt desc, runId desc)' }),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last' }),
  })
  .meta({ id: 'RunPage' });

const statusCounts = Object.fromEntries(runStatusSchema.options.map((status) => [status, z.number().int()])) as {
  [K in z.infer<typeof runStatusSchema>]: z.ZodNumber;
};

export const runCountsSchema = z
  .object({
    total: z.number().int(),
    byStatus: z.object(statusCounts).meta({ description: 'Every status, 0 when none' }),
  })
  .meta({ id: 'RunCounts' });
