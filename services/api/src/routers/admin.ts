import { TRPCError } from '@trpc/server';
import { definitionChecksum, findDestinationIssues, workflowDefinitionSchema } from '@sagaflow/definitions';
import { pauseWorkflow, registerDefinition, resumeWorkflow } from '@sagaflow/db';
import { createRouter, publicProcedure } from '../trpc.js';
import { findUnstorableJson } from '../schemas/json.js';
import { registerWorkflowOutputSchema } from '../schemas/workflow.js';
import { workflowPauseInputSchema, workflowPauseStateSchema } from '../schemas/run.js';

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

  pauseWorkflow: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'POST',
        path: '/v1/admin/workflows/{name}/pause',
        operationId: 'pauseWorkflow',
        tags: ['admin'],
        summary: 'Pause a workflow: starts are accepted (PENDING) but nothing of any of its runs is dispatched',
        description:
          'Attempts in flight finish and are recorded; what would follow them waits, and so do new starts, retries ' +
          'and wake-ups, until resume. Pausing a paused workflow is a no-op; an unknown workflow is a 404.',
        protect: true,
        successDescription: 'The workflow is paused',
      },
    })
    .input(workflowPauseInputSchema)
    .output(workflowPauseStateSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await pauseWorkflow(ctx.db, input.name, { reason: input.reason ?? null });
      ctx.log.info(
        {
          action: 'pause-workflow',
          workflowName: input.name,
          reason: input.reason ?? null,
          by: ctx.principal,
          ...outcome(result),
        },
        'operator action',
      );
      ctx.status = 202;
      return { name: result.name, paused: result.paused };
    }),

  resumeWorkflow: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'POST',
        path: '/v1/admin/workflows/{name}/resume',
        operationId: 'resumeWorkflow',
        tags: ['admin'],
        summary: "Resume a paused workflow: its runs' waiting work is dispatched again",
        description:
          'What became due while paused is due at once; runs paused on their own stay paused. Resuming a workflow ' +
          'that is not paused is a no-op; an unknown workflow is a 404.',
        protect: true,
        successDescription: 'The workflow is not paused',
      },
    })
    .input(workflowPauseInputSchema)
    .output(workflowPauseStateSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await resumeWorkflow(ctx.db, input.name);
      ctx.log.info(
        {
          action: 'resume-workflow',
          workflowName: input.name,
          reason: input.reason ?? null,
          by: ctx.principal,
          ...outcome(result),
        },
        'operator action',
      );
      ctx.status = 202;
      return { name: result.name, paused: result.paused };
    }),
});

function outcome(result: { changed: boolean; items: number }): { outcome: string; items: number } {
  return { outcome: result.changed ? 'applied' : 'noop', items: result.items };
}
