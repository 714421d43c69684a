import { z } from 'zod';

/** Admin and health shapes. The definition itself is `workflowDefinitionSchema` from @sagaflow/definitions. */

export const registerWorkflowOutputSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    checksum: z.string().meta({ description: 'sha-256 of the canonical definition' }),
    created: z.boolean().meta({ description: 'true (201) when new, false (200) when identical to the registered one' }),
  })
  .meta({ id: 'WorkflowRegistered' });

const checkStatusSchema = z.enum(['ok', 'error']);

export const healthOutputSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

export const readinessOutputSchema = z
  .object({
    status: checkStatusSchema,
    checks: z.object({ postgres: checkStatusSchema, redis: checkStatusSchema.optional() }),
    code: z.literal('SERVICE_UNAVAILABLE').optional().meta({ description: 'Present when not ready (503)' }),
    message: z.string().optional().meta({ description: 'Present when not ready (503)' }),
  })
  .meta({ id: 'Readiness' });
