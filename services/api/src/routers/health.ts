import { z } from 'zod';
import { createRouter, publicProcedure } from '../trpc.js';
import { healthOutputSchema, readinessOutputSchema } from '../schemas/workflow.js';

/** Liveness (no I/O) and readiness (Postgres, Redis when configured). */
export const healthRouter = createRouter({
  health: publicProcedure
    .meta({
      role: 'public',
      openapi: {
        method: 'GET',
        path: '/health',
        operationId: 'getHealth',
        tags: ['health'],
        summary: 'Liveness',
        protect: false,
      },
    })
    .input(z.void())
    .output(healthOutputSchema)
    .query(() => ({ status: 'ok' as const })),

  ready: publicProcedure
    .meta({
      role: 'public',
      openapi: {
        method: 'GET',
        path: '/ready',
        operationId: 'getReadiness',
        tags: ['health'],
        summary: 'Readiness: Postgres, and Redis when configured',
        protect: false,
      },
    })
    .input(z.void())
    .output(readinessOutputSchema)
    .query(async ({ ctx }) => {
      const report = await ctx.checkReadiness();
      if (report.ready) return { status: 'ok' as const, checks: report.checks };
      ctx.status = 503;
      return {
        status: 'error' as const,
        checks: report.checks,
        code: 'SERVICE_UNAVAILABLE' as const,
        message: 'not ready',
      };
    }),
});
