import { z } from 'zod';
import { isSemver } from '@sagaflow/definitions';
import { jsonObjectSchema } from './json.js';

/** Run, step and start/cancel/retry shapes: each defined once, used for `.input()`, `.output()` and OpenAPI. */

export const runStatusSchema = z
  .enum(['PENDING', 'RUNNING', 'COMPENSATING', 'CANCELLING', 'COMPLETED', 'COMPENSATED', 'FAILED', 'CANCELLED'])
  .meta({ id: 'RunStatus' });

export const stepStatusSchema = z
  .enum(['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED'])
  .meta({ id: 'StepStatus' });

export const compensationStatusSchema = z
  .enum(['NONE', 'PENDING', 'RUNNING', 'COMPENSATED', 'FAILED'])
  .meta({ id: 'CompensationStatus' });

/** Same charset as workflow names (docs/contract.md#definitions). */
export const slugSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);

export const runIdSchema = z
  .uuid()
  .meta({ description: 'Run id (UUID)', example: '0b6f1c1e-6c9f-4c55-9d8e-2a7c0f5b8f11' });

const timestampSchema = z.iso.datetime({ offset: true });

export const runErrorSchema = z
  .object({
    code: z.enum(['STEP_FAILED', 'COMPENSATION_FAILED', 'CANCELLED', 'DELIVERY_EXHAUSTED', 'TEMPLATE_ERROR']),
    message: z.string(),
    stepId: z.string().optional(),
  })
  .meta({ id: 'RunError' });

export const runSchema = z
  .object({
    runId: z.uuid(),
    workflowName: z.string(),
    workflowVersion: z.string(),
    status: runStatusSchema,
    error: runErrorSchema.nullable(),
    input: jsonObjectSchema,
    context: jsonObjectSchema,
    correlationId: z.string(),
    paused: z.boolean().meta({
      description:
        'The run is paused (docs/contract.md#pause): no new attempt starts until resume; false once terminal',
    }),
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
    completedAt: timestampSchema.nullable(),
  })
  .meta({ id: 'Run' });

export const stepSchema = z
  .object({
    stepId: z.string(),
    status: stepStatusSchema,
    attempts: z.number().int(),
    compensationStatus: compensationStatusSchema,
    compensationAttempts: z.number().int(),
    output: z.unknown().meta({ description: "The action's response body (JSON, or text), null until it succeeds" }),
    error: z.unknown().meta({ description: 'The last permanent error of the action, or null' }),
    startedAt: timestampSchema.nullable(),
    finishedAt: timestampSchema.nullable(),
    nextAttemptAt: timestampSchema
      .nullable()
      .meta({ description: 'When the scheduled retry of this step (or its compensation) is due, else null' }),
  })
  .meta({ id: 'Step' });

export const runViewSchema = z
  .object({ run: runSchema, steps: z.array(stepSchema).meta({ description: 'In definition order' }) })
  .meta({ id: 'RunView' });

/** An operator's reason, written into the run's OPERATOR_ACTION event and the log line. */
const reasonSchema = z
  .string()
  .min(1)
  .max(1000)
  .optional()
  .meta({ description: "Why (kept in the run's history as OPERATOR_ACTION `reason`)", example: 'payments API fixed' });

/** A body's keys are exactly the documented ones: a misspelt `contxt` or `paylod` is a 400, not silently dropped. */
export const startRunInputSchema = z.strictObject({
  name: slugSchema.meta({ description: 'Workflow name', example: 'order-processing' }),
  version: z
    .string()
    .min(1)
    .max(64)
    .refine(isSemver, { error: (issue) => `version ${JSON.stringify(issue.input)} is not semver (MAJOR.MINOR.PATCH)` })
    .optional()
    .meta({ description: 'Workflow version; the highest semver version when omitted', example: '1.0.0' }),
  input: jsonObjectSchema.meta({ description: 'Run input, available to templates as `input`' }),
  context: jsonObjectSchema.optional().meta({ description: 'Run context, available to templates as `context`' }),
});

export const startRunOutputSchema = z.object({ runId: z.uuid(), status: runStatusSchema }).meta({ id: 'RunAccepted' });

export const runIdInputSchema = z.object({ runId: runIdSchema });

export const retryStepInputSchema = z.strictObject({
  runId: runIdSchema,
  stepId: slugSchema.meta({ description: 'Step id', example: 'charge-payment' }),
  reason: reasonSchema,
});

export const retryStepOutputSchema = z
  .object({ runId: z.uuid(), stepId: z.string(), status: runStatusSchema })
  .meta({ id: 'StepRetryAccepted' });

export type RunViewOutput = z.infer<typeof runViewSchema>;

/** docs/contract.md#durable-waits: a signal's payload is any JSON up to 256 KiB (413 above). */
export const SIGNAL_PAYLOAD_MAX_BYTES = 256 * 1024;

export const sendSignalInputSchema = z.strictObject({
  runId: runIdSchema,
  name: slugSchema.meta({ description: 'Signal name (the id charset)', example: 'approval' }),
  payload: z
    .unknown()
    .optional()
    .meta({ description: 'Any JSON (≤ 256 KiB); the output of the wait step that consumes it' }),
});

export const sendSignalOutputSchema = z
  .object({
    signalId: z.uuid(),
    runId: z.uuid(),
    name: z.string(),
    consumed: z.boolean().meta({ description: 'A wait step has taken it (true only for a replay of an older signal)' }),
  })
  .meta({ id: 'SignalAccepted' });

export const operatorActionInputSchema = z.strictObject({ runId: runIdSchema, reason: reasonSchema });

/** Cancel's body: `{ reason? }`, kept in the run's CANCEL_REQUESTED event. */
export const cancelRunInputSchema = z.strictObject({
  runId: runIdSchema,
  reason: reasonSchema.meta({ description: "Why (kept in the run's history as CANCEL_REQUESTED `reason`)" }),
});

export const redriveOutputSchema = z
  .object({
    runId: z.uuid(),
    stepId: z.string().meta({ description: 'The step whose action (or compensation) runs again' }),
    kind: z.enum(['action', 'compensation']),
    status: runStatusSchema,
  })
  .meta({ id: 'RedriveAccepted' });

export const runPauseStateSchema = z
  .object({ runId: z.uuid(), status: runStatusSchema, paused: z.boolean() })
  .meta({ id: 'RunPauseState' });

export const workflowPauseInputSchema = z.strictObject({
  name: slugSchema.meta({ description: 'Workflow name', example: 'order-processing' }),
  reason: reasonSchema,
});

export const workflowPauseStateSchema = z
  .object({ name: z.string(), paused: z.boolean() })
  .meta({ id: 'WorkflowPauseState' });
