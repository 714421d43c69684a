import { TRPCError } from '@trpc/server';
import {
  cancelRunWithTransition,
  countRuns,
  getRun,
  pauseRun,
  searchRuns,
  readRunEvents,
  findUnstorableJson,
  redriveRun,
  resumeRun,
  retryStepWithTransition,
  sendSignal,
  type OperatorActionResult,
  type OperatorSkipped,
  type RunStatus,
  type RunTransition,
} from '@sagaflow/db';
import { isTerminal } from '@sagaflow/saga';
import { createRouter, publicProcedure, type Context } from '../trpc.js';
import {
  cancelRunInputSchema,
  operatorActionInputSchema,
  redriveOutputSchema,
  runPauseStateSchema,
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
import {
  runCountsInputSchema,
  runCountsSchema,
  runSearchInputSchema,
  runSearchPageSchema,
} from '../schemas/run-search.js';
import { decodeCursor, encodeCursor, toRunSearchFilter } from '../run-search.js';

/** Logs a transition an operator request made (once: the engine logs only those it makes), and times a run it ended. */
function recordTransition(ctx: Context, transition: RunTransition, extra: Record<string, unknown>): void {
  ctx.runLog(transition).info({ from: transition.from, to: transition.to, ...extra }, 'run transition');
  if (isTerminal(transition.to)) {
    const seconds = (Date.now() - transition.createdAt.getTime()) / 1000;
    ctx.metrics.runDuration.observe({ workflowName: transition.workflowName, status: transition.to }, seconds);
  }
}

/**
 * The log line of an operator action (docs/operations.md#operator-actions), whatever its outcome, and the run
 * transition it made. A refused or unknown run becomes the 409 / 404 with the reason.
 */
function settleOperatorAction(
  ctx: Context,
  action: string,
  reason: string | undefined,
  result: OperatorActionResult | OperatorSkipped,
  extra: Record<string, unknown> = {},
): void {
  const fields = { action, reason: reason ?? null, operationId: null, by: ctx.principal, ...extra };
  if (result.applied) {
    ctx.runLog(result.transition).info({ ...fields, outcome: 'applied', paused: result.paused }, 'operator action');
    if (result.transition.from !== result.transition.to)
      recordTransition(ctx, result.transition, { reason: `${action} requested`, ...extra });
    return;
  }
  const outcome = result.code === 'NOOP' ? 'noop' : result.code === 'NOT_FOUND' ? 'not-found' : 'refused';
  ctx.log.info({ runId: result.runId, ...fields, outcome, why: result.reason }, 'operator action');
  if (result.code === 'NOT_FOUND') throw new TRPCError({ code: 'NOT_FOUND', message: result.reason });
  if (result.code === 'CONFLICT') throw new TRPCError({ code: 'CONFLICT', message: result.reason });
}

/** The answer of pause and resume: applied or a no-op (settleOperatorAction threw for the rest). */
function pauseState(result: OperatorActionResult): { runId: string; status: RunStatus; paused: boolean } {
  if (result.status === null) throw new Error(`run ${result.runId} has no status`);
  return { runId: result.runId, status: result.status, paused: result.paused };
}

export const runsRouter = createRouter({
  search: publicProcedure
    .meta({
      role: 'operator',
      openapi: {
        method: 'GET',
        path: '/v1/runs',
        operationId: 'searchRuns',
        tags: ['runs'],
        summary: 'Search runs, newest first',
        description:
          'Filters combine with AND. Newest first (createdAt desc, runId desc); page on with `cursor` = the previous ' +
          "page's `nextCursor` and the same filters: walking every page returns each run that existed when the walk " +
          'began exactly once. A query running past SEARCH_STATEMENT_TIMEOUT_MS is a 503 with code QUERY_TIMEOUT.',
        protect: false,
      },
    })
    .input(runSearchInputSchema)
    .output(runSearchPageSchema)
    .query(async ({ ctx, input }) => {
      const filter = toRunSearchFilter(input);
      const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor, filter);
      const page = await searchRuns(ctx.db, filter, { limit: input.limit, after, timeoutMs: ctx.searchTimeoutMs });
      return { items: page.items, nextCursor: page.next ? encodeCursor(page.next, filter) : null };
    }),

  counts: publicProcedure
    .meta({
      role: 'operator',
      openapi: {
        method: 'GET',
        path: '/v1/runs/counts',
        operationId: 'countRuns',
        tags: ['runs'],
        summary: 'Count runs by status',
        description:
          'The filters of GET /v1/runs. Every status is present (0 when none). A count running past ' +
          'SEARCH_STATEMENT_TIMEOUT_MS is a 503 with code QUERY_TIMEOUT: bound it with createdAfter/createdBefore.',
        protect: false,
      },
    })
    .input(runCountsInputSchema)
    .output(runCountsSchema)
    .query(({ ctx, input }) => countRuns(ctx.db, toRunSearchFilter(input), { timeoutMs: ctx.searchTimeoutMs })),

  get: publicProcedure
    .meta({
      role: 'client',
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
      role: 'client',
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
      role: 'operator',
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
    .input(cancelRunInputSchema)
    .output(startRunOutputSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await cancelRunWithTransition(ctx.db, input.runId, input.reason ?? null);
      recordTransition(ctx, result.transition, { reason: 'cancel requested', by: ctx.principal });
      ctx.status = 202;
      return { runId: result.runId, status: result.status };
    }),

  retryStep: publicProcedure
    .meta({
      role: 'operator',
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
      const result = await retryStepWithTransition(ctx.db, input.runId, input.stepId, input.reason ?? null);
      recordTransition(ctx, result.transition, {
        stepId: result.stepId,
        reason: 'step retry requested',
        by: ctx.principal,
      });
      ctx.status = 202;
      return { runId: result.runId, stepId: result.stepId, status: result.status };
    }),

  signal: publicProcedure
    .meta({
      role: 'client',
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

  redrive: publicProcedure
    .meta({
      role: 'operator',
      openapi: {
        method: 'POST',
        path: '/v1/runs/{runId}/redrive',
        operationId: 'redriveRun',
        tags: ['runs'],
        summary: 'Run a FAILED run again from what failed (the step is chosen for you)',
        description:
          'The FAILED compensation of a COMPENSATION_FAILED run runs again and the unwinding resumes; otherwise the ' +
          'FAILED step of a forward failure (STEP_FAILED, DELIVERY_EXHAUSTED, TEMPLATE_ERROR, nothing compensated) runs ' +
          'again and the run goes on — the two cases of retry-step, with a fresh attempt budget. Not redrivable → 409 ' +
          "with the reason. The run's history gets OPERATOR_ACTION `{ action: 'redrive', reason }`.",
        protect: false,
        successDescription: 'Redrive accepted',
      },
    })
    .input(operatorActionInputSchema)
    .output(redriveOutputSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await redriveRun(ctx.db, input.runId, { reason: input.reason ?? null });
      settleOperatorAction(ctx, 'redrive', input.reason, result, result.applied ? { stepId: result.stepId } : {});
      if (!result.applied) throw new Error('unreachable: a redrive is never a no-op');
      ctx.status = 202;
      return { runId: result.runId, stepId: result.stepId, kind: result.kind, status: result.status };
    }),

  pause: publicProcedure
    .meta({
      role: 'operator',
      openapi: {
        method: 'POST',
        path: '/v1/runs/{runId}/pause',
        operationId: 'pauseRun',
        tags: ['runs'],
        summary: 'Pause a run: no new attempt of it starts until resume',
        description:
          'The status keeps its value (`paused` is a flag beside it). An attempt in flight finishes and is recorded; ' +
          'what would follow it waits. A paused run again is a no-op 202; a terminal or cancelling run is a 409. ' +
          'Cancel still works on a paused run (the run unpauses and unwinds).',
        protect: false,
        successDescription: 'The run is paused',
      },
    })
    .input(operatorActionInputSchema)
    .output(runPauseStateSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await pauseRun(ctx.db, input.runId, { reason: input.reason ?? null });
      settleOperatorAction(ctx, 'pause', input.reason, result);
      ctx.status = 202;
      return pauseState(result);
    }),

  resume: publicProcedure
    .meta({
      role: 'operator',
      openapi: {
        method: 'POST',
        path: '/v1/runs/{runId}/resume',
        operationId: 'resumeRun',
        tags: ['runs'],
        summary: 'Resume a paused run',
        description:
          'What became due while the run was paused runs at once (a later retry or wake-up time is kept). A run that ' +
          'is not paused (terminal runs never are) is a no-op 202.',
        protect: false,
        successDescription: 'The run is not paused',
      },
    })
    .input(operatorActionInputSchema)
    .output(runPauseStateSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await resumeRun(ctx.db, input.runId, { reason: input.reason ?? null });
      settleOperatorAction(ctx, 'resume', input.reason, result);
      ctx.status = 202;
      return pauseState(result);
    }),
});
