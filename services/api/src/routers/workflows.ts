import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { FastifyBaseLogger } from 'fastify';
import { newTraceParent, parseTraceParent } from '@sagaflow/observability';
import { getRegisteredDefinition, listWorkflows } from '@sagaflow/db';
import { createRouter, publicProcedure, type Context } from '../trpc.js';
import {
  registeredDefinitionSchema,
  workflowListSchema,
  workflowVersionInputSchema,
} from '../schemas/workflow-catalog.js';
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

const MAX_LOGGED_KEYS = 50;

/** Whether `log` writes debug lines (Fastify's logger type does not expose pino's isLevelEnabled). */
function isDebugEnabled(log: FastifyBaseLogger): boolean {
  return (
    (log as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('debug') ?? false
  );
}

/** `input` → `{ inputKeys, inputBytes }`, plus `input` itself when `withValue` (debug). */
function describePayload(
  name: 'input' | 'context',
  value: Record<string, unknown> | undefined,
  withValue: boolean,
): Record<string, unknown> {
  if (value === undefined) return {};
  return {
    [`${name}Keys`]: Object.keys(value).slice(0, MAX_LOGGED_KEYS),
    [`${name}Bytes`]: Buffer.byteLength(JSON.stringify(value)),
    ...(withValue ? { [name]: value } : {}),
  };
}

export const workflowsRouter = createRouter({
  list: publicProcedure
    .meta({
      role: 'operator',
      openapi: {
        method: 'GET',
        path: '/v1/workflows',
        operationId: 'listWorkflows',
        tags: ['workflows'],
        summary: 'Every registered workflow with its versions',
        protect: false,
      },
    })
    .input(z.object({}))
    .output(workflowListSchema)
    .query(async ({ ctx }) => ({ items: await listWorkflows(ctx.db) })),

  getVersion: publicProcedure
    .meta({
      role: 'operator',
      openapi: {
        method: 'GET',
        path: '/v1/workflows/{name}/versions/{version}',
        operationId: 'getWorkflowVersion',
        tags: ['workflows'],
        summary: 'A registered definition, exactly as registered',
        protect: false,
      },
    })
    .input(workflowVersionInputSchema)
    .output(registeredDefinitionSchema)
    .query(async ({ ctx, input }) => {
      const found = await getRegisteredDefinition(ctx.db, input.name, input.version);
      if (!found) {
        throw new TRPCError({ code: 'NOT_FOUND', message: `workflow ${input.name}@${input.version} not found` });
      }
      return found as typeof found & { definition: Record<string, unknown> };
    }),

  start: publicProcedure
    .meta({
      role: 'client',
      openapi: {
        method: 'POST',
        path: '/v1/workflows/{name}/start',
        operationId: 'startRun',
        tags: ['runs'],
        summary: 'Start a run of a workflow',
        description:
          'Creates a PENDING run of the workflow (the highest semver version when `version` is omitted). ' +
          'With `idempotency-key`, the same key and body return the same run; a different body is a 409. With API keys, ' +
          'idempotency keys are scoped to the calling API key.',
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
      // a new one: every attempt of the run then carries this trace id (docs/contract.md#observability)
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
        // with API keys, each key has its own idempotency keys (docs/security.md#idempotency-keys-per-api-key)
        idempotencyScope: ctx.principal.idempotencyScope,
        ...trace,
      });
      // x-correlation-id echoes the header sent; without one, a replay answers with the run's own (the id generated
      // for it when it started), not a fresh one
      if (ctx.headers.correlationId === undefined && result.correlationId !== ctx.correlationId)
        ctx.setHeader('x-correlation-id', result.correlationId);
      const log = ctx.runLog({ runId: result.runId, workflowName: input.name, correlationId: result.correlationId });
      if (result.created) {
        ctx.metrics.runsStarted.inc();
        log.info(
          {
            to: 'PENDING',
            requestedVersion: input.version,
            // keys and sizes at info; the values (capped and redacted by the logger) only at debug
            ...describePayload('input', input.input, isDebugEnabled(log)),
            ...describePayload('context', input.context, isDebugEnabled(log)),
            traceId: parseTraceParent(trace.traceParent)?.traceId,
          },
          'run started',
        );
      } else {
        log.info({ status: result.status }, 'run start replayed');
      }
      ctx.status = 202;
      // a replay answers what the first call answered (SPEC §5: 202 { runId, status: "PENDING" }), whatever the run's
      // status is now (GET /v1/runs/{runId} tells that)
      return { runId: result.runId, status: 'PENDING' as const };
    }),
});
