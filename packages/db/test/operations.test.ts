import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BULK_ACTIONS,
  BULK_PLANNERS,
  cancelOperation,
  cancelRun,
  createOperation,
  dryRunOperation,
  getOperation,
  listOperations,
  pauseRun,
  processOperationBatch,
  registerDefinition,
  reserveOperationBatch,
  startRun,
  type Db,
  type RunAction,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { definitionOf } from './support/definitions.js';

/** Bulk operations (docs/operations.md#bulk-operations): the fixed run set, reservations, batches, cancel. */

const FLOW = definitionOf({
  name: 'bulk',
  version: '1.0.0',
  steps: [{ id: 'a', request: { method: 'POST', url: 'http://127.0.0.1:9/a' } }],
});

let database: TestDatabase;
let db: Db;
beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
  await registerDefinition(db, FLOW);
});
afterEach(async () => {
  await database?.drop();
});

async function startMany(n: number, context: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { runId } = await startRun(db, { workflowName: 'bulk', input: { i }, context, correlationId: `c-${i}` });
    ids.push(runId);
  }
  return ids;
}

const cancelRequest = (filter: Record<string, unknown>, ratePerSecond = 1000) => ({
  action: 'cancel' as const,
  filter,
  runFilter: filter,
  ratePerSecond,
  reason: 'cleanup',
});

/** Reserves and processes batches until the operation has none left (bypassing the rate: next_run_at is reset). */
async function drain(operationId: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await sql`update operations set next_run_at = now() where id = ${operationId}`.execute(db);
    const reservation = await reserveOperationBatch(db, 100);
    if (!reservation) return;
    await processOperationBatch(db, reservation, BULK_ACTIONS);
  }
  throw new Error('operation did not drain');
}

async function operatorEvents(runId: string) {
  return db
    .selectFrom('run_events')
    .select(['type', 'data'])
    .where('run_id', '=', runId)
    .where('type', '=', 'OPERATOR_ACTION')
    .execute();
}

describe('bulk operations in Postgres', () => {
  it('dry run counts matched and eligible runs and samples eligible ones, writing nothing', async () => {
    const acme = await startMany(3, { tenant: 'acme' });
    await startMany(2, { tenant: 'other' });
    await cancelRun(db, acme[0]!);
    const dry = await dryRunOperation(db, 'cancel', { context: { tenant: 'acme' } });
    expect(dry).toEqual({ matched: 3, eligible: 2, sample: expect.any(Array) as unknown });
    expect([...dry.sample].sort()).toEqual([acme[1], acme[2]].sort());
    const { count } = await db
      .selectFrom('operations')
      .select(sql<string>`count(*)`.as('count'))
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(0);
  });

  it('fixes the run set at creation and applies the action once per run, with OPERATOR_ACTION naming it', async () => {
    const ids = await startMany(5, { tenant: 'acme' });
    await cancelRun(db, ids[4]!); // matched, but not eligible any more: skipped
    const { operationId, matched } = await createOperation(db, cancelRequest({ context: { tenant: 'acme' } }));
    expect(matched).toBe(5);
    const late = await startMany(1, { tenant: 'acme' }); // started after creation: not part of it

    await drain(operationId);
    const view = await getOperation(db, operationId);
    expect(view).toMatchObject({
      operationId,
      action: 'cancel',
      status: 'COMPLETED',
      filter: { context: { tenant: 'acme' } },
      total: 5,
      succeeded: 4,
      skipped: 1,
      failed: 0,
      errors: [],
    });
    expect(view?.finishedAt).not.toBeNull();
    for (const runId of ids.slice(0, 4)) {
      const run = await db.selectFrom('workflow_runs').select('status').where('id', '=', runId).executeTakeFirst();
      expect(run?.status).toBe('CANCELLED');
      const events = await operatorEvents(runId);
      expect(events).toEqual([{ type: 'OPERATOR_ACTION', data: { action: 'cancel', reason: 'cleanup', operationId } }]);
    }
    expect(await operatorEvents(ids[4]!)).toEqual([]);
    const lateRun = await db.selectFrom('workflow_runs').select('status').where('id', '=', late[0]!).executeTakeFirst();
    expect(lateRun?.status).toBe('PENDING');
    const skipped = await db
      .selectFrom('operation_runs')
      .select('reason')
      .where('run_id', '=', ids[4]!)
      .executeTakeFirstOrThrow();
    expect(skipped.reason).toMatch(/only PENDING or RUNNING/);
  });

  it('set-based batch (BULK_PLANNERS): all runs locked and written at once, skips kept, a throwing planner falls back per run', async () => {
    const ids = await startMany(5, { tenant: 'set' });
    await pauseRun(db, ids[2]!); // already paused: NOOP, skipped
    const request = { ...cancelRequest({ context: { tenant: 'set' } }), action: 'pause' as const };
    const { operationId } = await createOperation(db, request);
    const reservation = await reserveOperationBatch(db, 100);
    const result = await processOperationBatch(db, reservation!, BULK_ACTIONS, BULK_PLANNERS);
    expect(result?.completed).toBe(true);
    expect(await getOperation(db, operationId)).toMatchObject({
      status: 'COMPLETED',
      succeeded: 4,
      skipped: 1,
      failed: 0,
    });
    const rows = await db.selectFrom('workflow_runs').select(['id', 'paused_at']).where('id', 'in', ids).execute();
    expect(rows.every((r) => r.paused_at !== null)).toBe(true);
    for (const runId of [ids[0]!, ids[1]!, ids[3]!, ids[4]!])
      expect(await operatorEvents(runId)).toEqual([
        { type: 'OPERATOR_ACTION', data: { action: 'pause', reason: 'cleanup', operationId } },
      ]);

    // a planner that throws: the savepoint is rolled back and every run goes through the per-run action
    const resume = { ...request, action: 'resume' as const };
    const second = await createOperation(db, resume);
    const next = await reserveOperationBatch(db, 100);
    const throwing = {
      resume: () => {
        throw new Error('planner broke');
      },
    };
    await processOperationBatch(db, next!, BULK_ACTIONS, throwing);
    expect(await getOperation(db, second.operationId)).toMatchObject({ status: 'COMPLETED', succeeded: 5, failed: 0 });
    const resumed = await db.selectFrom('workflow_runs').select(['paused_at']).where('id', 'in', ids).execute();
    expect(resumed.every((r) => r.paused_at === null)).toBe(true);
  });

  it('a failing action fails that run only (the others commit), errors list it', async () => {
    const ids = await startMany(3, { tenant: 'x' });
    const boom = ids[1]!;
    const actions: Record<string, RunAction> = {
      ...BULK_ACTIONS,
      cancel: async (trx, runId, request) => {
        if (runId === boom) await sql`select 1 / 0`.execute(trx); // a database error inside the run's savepoint
        return BULK_ACTIONS.cancel(trx, runId, request);
      },
    };
    const { operationId } = await createOperation(db, cancelRequest({ context: { tenant: 'x' } }));
    const reservation = await reserveOperationBatch(db, 100);
    const result = await processOperationBatch(db, reservation!, actions as typeof BULK_ACTIONS);
    expect(result?.completed).toBe(true);
    const view = await getOperation(db, operationId);
    expect(view).toMatchObject({ status: 'COMPLETED', succeeded: 2, failed: 1, skipped: 0 });
    expect(view?.errors).toEqual([{ runId: boom, reason: expect.stringMatching(/division by zero/) as unknown }]);
    const statuses = await db.selectFrom('workflow_runs').select(['id', 'status']).execute();
    expect(statuses.find((r) => r.id === boom)?.status).toBe('PENDING');
  });

  it('a batch whose connection dies before commit applies nothing; its runs are taken again', async () => {
    const ids = await startMany(3, { tenant: 'y' });
    const { operationId } = await createOperation(db, cancelRequest({ context: { tenant: 'y' } }));
    const last = [...ids].sort()[2]!;
    const dying: Record<string, RunAction> = {
      ...BULK_ACTIONS,
      cancel: async (trx, runId, request) => {
        const outcome = await BULK_ACTIONS.cancel(trx, runId, request);
        // the first two runs were acted on in this transaction: the backend dies as a killed process would leave it
        if (runId === last) await sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx);
        return outcome;
      },
    };
    const reservation = await reserveOperationBatch(db, 100);
    await expect(processOperationBatch(db, reservation!, dying as typeof BULK_ACTIONS)).rejects.toThrow();
    for (const runId of ids) expect(await operatorEvents(runId)).toEqual([]);
    expect(await getOperation(db, operationId)).toMatchObject({ status: 'RUNNING', succeeded: 0 });
    await drain(operationId);
    expect(await getOperation(db, operationId)).toMatchObject({ status: 'COMPLETED', succeeded: 3 });
    for (const runId of ids) expect(await operatorEvents(runId)).toHaveLength(1);
  });

  it('reservations advance next_run_at by batch / rate, never from the past', async () => {
    await startMany(30, { tenant: 'r' });
    const { operationId } = await createOperation(db, cancelRequest({ context: { tenant: 'r' } }, 20));
    await sql`update operations set next_run_at = now() - interval '1 hour' where id = ${operationId}`.execute(db);
    const clock = async () => (await sql<{ t: Date }>`select clock_timestamp() as t`.execute(db)).rows[0]!.t.getTime();
    const before = await clock();
    const first = await reserveOperationBatch(db, 100);
    const after = await clock();
    expect(first).toMatchObject({ operationId, runs: 2 }); // 20/s: 2 runs per reservation, 100 ms apart
    const row = await db
      .selectFrom('operations')
      .select('next_run_at')
      .where('id', '=', operationId)
      .executeTakeFirstOrThrow();
    expect(row.next_run_at.getTime()).toBeGreaterThanOrEqual(before + 100);
    expect(row.next_run_at.getTime()).toBeLessThanOrEqual(after + 100);
    expect(await reserveOperationBatch(db, 100)).toBeUndefined(); // not due again yet
  });

  it('cancel stops an operation before its next run; what was done stays done', async () => {
    await startMany(6, { tenant: 'c' });
    const { operationId } = await createOperation(db, cancelRequest({ context: { tenant: 'c' } }, 20));
    const reservation = await reserveOperationBatch(db, 100);
    await processOperationBatch(db, reservation!, BULK_ACTIONS);
    expect(await cancelOperation(db, operationId)).toEqual({ status: 'CANCELLED' });
    await sql`update operations set next_run_at = now() where id = ${operationId}`.execute(db);
    expect(await reserveOperationBatch(db, 100)).toBeUndefined();
    // a reservation made before the cancel finds the operation stopped
    expect(await processOperationBatch(db, reservation!, BULK_ACTIONS)).toBeUndefined();
    const view = await getOperation(db, operationId);
    expect(view).toMatchObject({ status: 'CANCELLED', total: 6, succeeded: 2, skipped: 0, failed: 0 });
    expect(view?.finishedAt).not.toBeNull();
    expect(await cancelOperation(db, operationId)).toEqual({ status: 'CANCELLED' });
  });

  it('lists operations newest first with a keyset cursor', async () => {
    await startMany(1, { tenant: 'l' });
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      created.push((await createOperation(db, cancelRequest({ context: { tenant: 'l' } }))).operationId);
    }
    const first = await listOperations(db, { limit: 2 });
    const second = await listOperations(db, { limit: 2, after: first.next });
    const third = await listOperations(db, { limit: 2, after: second.next });
    expect(third.next).toBeUndefined();
    const walked = [...first.items, ...second.items, ...third.items].map((o) => o.operationId);
    expect(walked).toEqual([...created].reverse());
  });
});
