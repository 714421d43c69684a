import { TRPCError } from '@trpc/server';
import {
  cancelRunWithTransition,
  getRun,
  readRunEvents,
  findUnstorableJson,
  retryStepWithTransition,
  sendSignal,
  type RunTransition,
} from '@sagaflow/db';
import { isTerminal } from '@sagaflow/saga';
import { createRouter, publicProcedure, type Context } from '../trpc.js';
import {
  retryStepInputSchema,
  retryStepOutputSchema,
  runIdInputSchema,
  runViewSchema,
  type RunViewOutput,
  sendSignalInputSchema,
  sendSignalOutputSchema,
  SIGNAL_PAYLOAD_MAX_BYTES,
  startRunOutputSchema,
} from '../schemas/run.js';
import { signalRequestHeadersSchema } from '../schemas/headers.js';
import { runEventsInputSchema, runEventsPageSchema } from '../schemas/run-events.js';

/** Logs a transition an operator request made (once: the engine logs only those it makes), and times a run it ended. */
function recordTransition(ctx: Context, transition: RunTransition, extra: Record<string, unknown>): void {
  ctx.runLog(transition).info({ from: transition.from, to: transition.to, ...extra }, 'run transition');
  if (isTerminal(transition.to)) {
    const seconds = (Date.now() - transition.createdAt.getTime()) / 1000;
    ctx.metrics.runDuration.observe({ workflowName: transition.workflowName, status: transition.to }, seconds);
  }
}

export const runsRouter = createRouter({
  get: publicProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/v1/runs/{runId}',
        operationId: 'getRun',
        tags: ['runs'],
        summary: 'Get a run and its steps',
        protect: false,
      },
    })
    .input(runIdInputSchema)
    .output(runViewSchema)
    .query(async ({ ctx, input }) => {
      const view = await getRun(ctx.db, input.runId);
      if (!view) throw new TRPCError({ code: 'NOT_FOUND', message: `run ${input.runId} not found` });
      // input/context are JSON objects (CHECK constraints); the output parser verifies the whole view.
      return view as RunViewOutput;
    }),

  events: publicProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/v1/runs/{runId}/events',
        operationId: 'listRunEvents',
        tags: ['runs'],
        summary: "A page of a run's history, optionally waiting for the next event (long poll)",
        description:
          'Events with seq > `after`, in order. With none and `waitMs` > 0, answers as soon as one commits (on any ' +
          'API instance), or empty after `waitMs`; a terminal run with nothing newer answers at once.',
        protect: false,
      },
    })
    .input(runEventsInputSchema)
    .output(runEventsPageSchema)
    .query(async ({ ctx, input }) => {
      const { runId, after, limit, waitMs } = input;
      const deadline = Date.now() + waitMs;
      for (;;) {
        // subscribed before reading: an event committed between the read and the wait still wakes it
        const subscription = waitMs > 0 ? ctx.runEvents.subscribe(runId) : undefined;
        const page = await readRunEvents(ctx.db, runId, after, limit).catch((error: unknown) => {
          subscription?.close();
          throw error;
        });
        if (!page) {
          subscription?.close();
          throw new TRPCError({ code: 'NOT_FOUND', message: `run ${runId} not found` });
        }
        const left = deadline - Date.now();
        if (!subscription || page.events.length > 0 || page.terminal || left <= 0) {
          subscription?.close();
          const nextAfter = page.events.at(-1)?.seq ?? after;
          return { runId, events: page.events, nextAfter, terminal: page.terminal };
        }
        await subscription.wait(left, ctx.signal);
        if (ctx.signal.aborted) throw new TRPCError({ code: 'CLIENT_CLOSED_REQUEST', message: 'client went away' });
      }
    }),

  cancel: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/v1/runs/{runId}/cancel',
        operationId: 'cancelRun',
        tags: ['runs'],
        summary: 'Cancel a PENDING or RUNNING run',
        description: 'Succeeded steps are compensated first; the run ends CANCELLED. Terminal runs are a 409.',
        protect: false,
        successDescription: 'Cancellation accepted',
      },
    })
    .input(runIdInputSchema)
    .output(startRunOutputSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await cancelRunWithTransition(ctx.db, input.runId);
      recordTransition(ctx, result.transition, { reason: 'cancel requested' });
      ctx.status = 202;
      return { runId: result.runId, status: result.status };
    }),

  retryStep: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/v1/runs/{runId}/steps/{stepId}/retry',
        operationId: 'retryStep',
        tags: ['runs'],
        summary: 'Retry a FAILED step action or a FAILED compensation',
        description:
          'Run FAILED with STEP_FAILED, DELIVERY_EXHAUSTED or TEMPLATE_ERROR and this step FAILED: the step runs again ' +
          'and the run goes on (RUNNING). Run FAILED with COMPENSATION_FAILED and this compensation FAILED: it runs ' +
          'again and unwinding resumes (COMPENSATING). Anything else is a 409 with the reason.',
        protect: false,
        successDescription: 'Retry accepted',
      },
    })
    .input(retryStepInputSchema)
    .output(retryStepOutputSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await retryStepWithTransition(ctx.db, input.runId, input.stepId);
      recordTransition(ctx, result.transition, { stepId: result.stepId, reason: 'step retry requested' });
      ctx.status = 202;
      return { runId: result.runId, stepId: result.stepId, status: result.status };
    }),

  signal: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/v1/runs/{runId}/signals/{name}',
        operationId: 'sendSignal',
        tags: ['runs'],
        summary: 'Send a signal to a run (its mailbox)',
        description:
          'Stored in the run mailbox: a waitForSignal step of this name consumes the oldest unconsumed one, at most ' +
          'once, even when it was sent before the run reached the step. `payload` (any JSON, ≤ 256 KiB, else 413) is ' +
          'that step output. With `idempotency-key`, the same key and payload return the same signalId and store ' +
          'nothing; another payload is a 409. A terminal run is a 409, an unknown one a 404.',
        protect: false,
        requestHeaders: signalRequestHeadersSchema,
        successDescription: 'Signal accepted',
      },
    })
    .input(sendSignalInputSchema)
    .output(sendSignalOutputSchema)
    .mutation(async ({ ctx, input }) => {
      const headers = signalRequestHeadersSchema.safeParse({ 'idempotency-key': ctx.headers.idempotencyKey });
      if (!headers.success)
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'invalid request headers', cause: headers.error });
      const bytes = input.payload === undefined ? 0 : Buffer.byteLength(JSON.stringify(input.payload));
      if (bytes > SIGNAL_PAYLOAD_MAX_BYTES)
        throw new TRPCError({
          code: 'PAYLOAD_TOO_LARGE',
          message: `signal payload is ${bytes} bytes; the limit is ${SIGNAL_PAYLOAD_MAX_BYTES} (256 KiB)`,
        });
      const problem = input.payload === undefined ? undefined : findUnstorableJson(input.payload);
      if (problem) throw new TRPCError({ code: 'BAD_REQUEST', message: `payload: ${problem}` });
      const result = await sendSignal(ctx.db, {
        runId: input.runId,
        name: input.name,
        payload: input.payload,
        idempotencyKey: headers.data['idempotency-key'],
      });
      if (result.created) {
        ctx.metrics.signalsReceived.inc();
        ctx.log.info(
          { runId: result.runId, signal: result.name, signalId: result.signalId, payloadBytes: bytes },
          'signal received',
        );
      }
      ctx.status = 202;
      return { signalId: result.signalId, runId: result.runId, name: result.name, consumed: result.consumed };
    }),
});
