import { z } from 'zod';
import { slugSchema } from './run.js';

/** GET /v1/workflows and GET /v1/workflows/{name}/versions/{version} (SPEC §13). */

export const workflowSummarySchema = z
  .object({
    name: z.string(),
    latestVersion: z.string().meta({ description: 'The highest version (semver precedence)' }),
    versions: z.array(z.string()).meta({ description: 'Every registered version, in semver order' }),
    description: z.string().nullable().meta({ description: "The latest version's description" }),
    paused: z.boolean().meta({ description: 'Paused by an operator: starts accepted, nothing dispatched' }),
  })
  .meta({ id: 'WorkflowSummary' });

export const workflowListSchema = z.object({ items: z.array(workflowSummarySchema) }).meta({ id: 'WorkflowList' });

export const workflowVersionInputSchema = z.object({
  name: slugSchema.meta({ description: 'Workflow name', example: 'order-processing' }),
  version: z.string().min(1).max(64).meta({ description: 'Workflow version', example: '1.0.0' }),
});

export const registeredDefinitionSchema = z
  .object({
    definition: z
      .record(z.string(), z.unknown())
      .meta({ description: 'The definition as registered (no defaults filled in)' }),
    sha256: z.string().meta({ description: 'sha-256 of the canonical definition (the checksum of registration)' }),
    registeredAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'RegisteredDefinition' });
