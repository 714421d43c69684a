import { TRPCError } from '@trpc/server';
import {
  cancelOperation,
  createOperation,
  dryRunOperation,
  getOperation,
  listOperations,
  type RunSearchFilter,
} from '@sagaflow/db';
import { createRouter, publicProcedure } from '../trpc.js';
import {
  createOperationInputSchema,
  createOperationOutputSchema,
  listOperationsInputSchema,
  operationCancelledSchema,
  operationIdInputSchema,
  operationSchema,
  operationsPageSchema,
  type OperationFilter,
} from '../schemas/operation.js';

/** The request's filter as the queries take it (status → statuses). */
function toRunSearchFilter(filter: OperationFilter): RunSearchFilter {
  const { status, ...rest } = filter;
  return { ...rest, ...(status ? { statuses: status } : {}) };
}

const CURSOR_PREFIX = 'op1:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const encodeCursor = (operationId: string): string => Buffer.from(CURSOR_PREFIX + operationId).toString('base64url');

/** The operation a cursor points after; anything that is not a cursor this API made is a 400. */
function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : '';
  if (!UUID.test(id)) throw new TRPCError({ code: 'BAD_REQUEST', message: 'invalid cursor' });
  return id;
}

export const operationsRouter = createRouter({
  create: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'POST',
        path: '/v1/admin/operations',
        operationId: 'createOperation',
        tags: ['admin'],
        summary: 'Cancel, redrive, pause or resume every run a filter matches (with a dry run)',
        description:
          'With `dryRun: true`, counts the matched and eligible runs and samples up to 10 eligible ones (200), ' +
          'writing nothing. Otherwise the runs the filter matches now become the operation (202): the engines apply ' +
          'the action to each once, at most `ratePerSecond`, surviving crashes; runs no longer eligible when their ' +
          'turn comes are skipped. An empty filter is a 400. Needs the admin role (an admin key or `x-admin-token`).',
        protect: true,
      },
    })
    .input(createOperationInputSchema)
    .output(createOperationOutputSchema)
    .mutation(async ({ ctx, input }) => {
      const runFilter = toRunSearchFilter(input.filter);
      if (input.dryRun) {
        const dry = await dryRunOperation(ctx.db, input.action, runFilter);
        return { dryRun: true as const, ...dry };
      }
      const created = await createOperation(ctx.db, {
        action: input.action,
        filter: input.filter,
        runFilter,
        ratePerSecond: input.ratePerSecond,
        reason: input.reason ?? null,
      });
      ctx.log.info(
        {
          operationId: created.operationId,
          action: input.action,
          matched: created.matched,
          ratePerSecond: input.ratePerSecond,
          reason: input.reason ?? null,
        },
        'operation created',
      );
      ctx.status = 202;
      return created;
    }),

  get: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'GET',
        path: '/v1/admin/operations/{operationId}',
        operationId: 'getOperation',
        tags: ['admin'],
        summary: 'An operation and its progress',
        protect: true,
      },
    })
    .input(operationIdInputSchema)
    .output(operationSchema)
    .query(async ({ ctx, input }) => {
      const operation = await getOperation(ctx.db, input.operationId);
      if (!operation) throw new TRPCError({ code: 'NOT_FOUND', message: `operation ${input.operationId} not found` });
      return operation;
    }),

  list: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'GET',
        path: '/v1/admin/operations',
        operationId: 'listOperations',
        tags: ['admin'],
        summary: 'Operations, newest first',
        description:
          'Keyset pages: pass `nextCursor` as `cursor` for the next one; a cursor that was altered is a 400.',
        protect: true,
      },
    })
    .input(listOperationsInputSchema)
    .output(operationsPageSchema)
    .query(async ({ ctx, input }) => {
      const after = input.cursor !== undefined ? decodeCursor(input.cursor) : undefined;
      const page = await listOperations(ctx.db, { limit: input.limit, after });
      return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
    }),

  cancel: publicProcedure
    .meta({
      role: 'admin',
      openapi: {
        method: 'POST',
        path: '/v1/admin/operations/{operationId}/cancel',
        operationId: 'cancelOperation',
        tags: ['admin'],
        summary: 'Stop an operation before its next run',
        description:
          'Returns once no further run will be acted on (a batch being applied commits first). What was done stays ' +
          'done. Cancelling a cancelled operation again is a no-op 202; a COMPLETED one is a 409.',
        protect: true,
      },
    })
    .input(operationIdInputSchema)
    .output(operationCancelledSchema)
    .mutation(async ({ ctx, input }) => {
      const { status } = await cancelOperation(ctx.db, input.operationId);
      if (status === 'COMPLETED') {
        throw new TRPCError({ code: 'CONFLICT', message: `operation ${input.operationId} has already completed` });
      }
      ctx.log.info({ operationId: input.operationId }, 'operation cancelled');
      ctx.status = 202;
      return { operationId: input.operationId, status };
    }),
});
