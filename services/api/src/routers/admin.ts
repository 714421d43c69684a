import { TRPCError } from '@trpc/server';
import { definitionChecksum, findDestinationIssues, workflowDefinitionSchema } from '@sagaflow/definitions';
import { registerDefinition } from '@sagaflow/db';
import { createRouter, publicProcedure } from '../trpc.js';
import { findUnstorableJson } from '../schemas/json.js';
import { registerWorkflowOutputSchema } from '../schemas/workflow.js';

/** The definition schema (with its registration checks), plus what Postgres jsonb cannot store. */
const registerWorkflowInputSchema = workflowDefinitionSchema.superRefine((definition, ctx) => {
  const problem = findUnstorableJson(definition);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [] });
});

export const adminRouter = createRouter({
  registerWorkflow: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'POST',
        path: '/v1/admin/workflows',
        operationId: 'registerWorkflow',
        tags: ['admin'],
        summary: 'Register a workflow definition',
        description:
          'Definitions are immutable: the identical document again is a no-op (200), a different document under an ' +
          'existing name+version is a 409. Rate limited per client.',
        protect: true,
      },
    })
    .input(registerWorkflowInputSchema)
    .output(registerWorkflowOutputSchema)
    .mutation(async ({ ctx, input }) => {
      // docs/contract.md#security: only destinations the engine will call (same settings as the engine), before any write
      const refused = findDestinationIssues(input, ctx.destinations);
      if (refused.length > 0) {
        const message = refused.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
        throw new TRPCError({ code: 'BAD_REQUEST', message });
      }
      const { created } = await registerDefinition(ctx.db, input);
      ctx.log.info(
        { workflowName: input.name, workflowVersion: input.version, created, by: ctx.principal },
        'workflow registered',
      );
      ctx.status = created ? 201 : 200;
      return { name: input.name, version: input.version, checksum: definitionChecksum(input), created };
    }),
});
