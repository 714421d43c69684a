import { TRPCError } from '@trpc/server';
import { newTraceParent, parseTraceParent } from '@sagaflow/observability';
import { createRouter, publicProcedure, type Context } from '../trpc.js';
import { startRunInputSchema, startRunOutputSchema } from '../schemas/run.js';
import {
  startHeaderValuesSchema,
  startRequestHeadersSchema,
  traceParentSchema,
  traceStateSchema,
} from '../schemas/headers.js';

/** Validates the start headers (400 with zod issues); an invalid traceparent is dropped, not refused. */
function readStartHeaders(ctx: Context): { idempotencyKey?: string; traceParent?: string; traceState?: string } {
  const parsed = startHeaderValuesSchema.safeParse({
    'idempotency-key': ctx.headers.idempotencyKey,
    'x-correlation-id': ctx.headers.correlationId,
  });
  if (!parsed.success) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'invalid request headers', cause: parsed.error });
  }
  const traceParent = traceParentSchema.safeParse(ctx.headers.traceParent).data;
  const traceState = traceParent ? traceStateSchema.safeParse(ctx.headers.traceState).data : undefined;
  return { idempotencyKey: parsed.data['idempotency-key'], traceParent, traceState };
}

export const workflowsRouter = createRouter({
  start: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/v1/workflows/{name}/start',
        operationId: 'startRun',
        tags: ['runs'],
        summary: 'Start a run of a workflow',
        description:
          'Creates a PENDING run of the workflow (the highest semver version when `version` is omitted). ' +
          'With `idempotency-key`, the same key and body return the same run; a different body is a 409.',
        protect: false,
        requestHeaders: startRequestHeadersSchema,
        successDescription: 'Run accepted',
      },
    })
    .input(startRunInputSchema)
    .output(startRunOutputSchema)
    .mutation(async ({ ctx, input }) => {
      const { idempotencyKey, traceParent, traceState } = readStartHeaders(ctx);
      // the request span's context (a caller's traceparent is its parent); with tracing off, the caller's own, or
      // a new one: every attempt of the run then carries this trace id (SPEC §8)
      const trace = ctx.requestSpan
        ? { traceParent: ctx.requestSpan.traceparent, traceState: ctx.requestSpan.tracestate }
        : traceParent
          ? { traceParent, traceState }
          : { traceParent: newTraceParent() };
      const result = await ctx.startRun({
        workflowName: input.name,
        version: input.version,
        input: input.input,
        context: input.context,
        correlationId: ctx.correlationId,
        idempotencyKey,
        ...trace,
      });
      const log = ctx.runLog({ runId: result.runId, workflowName: input.name, correlationId: ctx.correlationId });
      if (result.created) {
        ctx.metrics.runsStarted.inc();
        log.info(
          {
            to: 'PENDING',
            requestedVersion: input.version,
            input: input.input,
            context: input.context,
            traceId: parseTraceParent(trace.traceParent)?.traceId,
          },
          'run started',
        );
      } else {
        log.info({ status: result.status }, 'run start replayed');
      }
      ctx.status = 202;
      return { runId: result.runId, status: result.status };
    }),
});
