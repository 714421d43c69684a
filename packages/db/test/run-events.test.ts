import type { AttemptRecord, AttemptResult } from '@sagaflow/saga';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cancelRun,
  claimOutboxBatch,
  completeItems,
  continueWith,
  EVENTS_ALL_RUNS,
  EVENTS_CHANNEL,
  getRun,
  refreshEventListener,
  registerDefinition,
  removeEventListener,
  retryStep,
  startRun,
  type ClaimedItem,
  type Db,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { definitionOf } from './support/definitions.js';

/** Run history (docs/contract.md#run-history) as the writer, the start and the claim append it. */

const SAGA = definitionOf({
  name: 'history',
  version: '1.0.0',
  steps: [
    {
      id: 'a',
      request: { method: 'POST', url: 'http://127.0.0.1:9/a' },
      compensation: { id: 'undo-a', request: { method: 'POST', url: 'http://127.0.0.1:9/undo-a' } },
    },
    { id: 'b', request: { method: 'POST', url: 'http://127.0.0.1:9/b' } },
    { id: 'c', request: { method: 'POST', url: 'http://127.0.0.1:9/c' } },
  ],
});

let database: TestDatabase;
let db: Db;
beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
  await registerDefinition(db, SAGA);
});
afterEach(async () => {
  await database?.drop();
});

const carryOver = { owner: 'engine', leaseMs: 60_000 };
const ok = (output: unknown): AttemptResult => ({ outcome: 'SUCCEEDED', output });

function record(item: ClaimedItem, result: AttemptResult, httpStatus: number): AttemptRecord {
  if (result.outcome === 'WAITING') throw new Error('a wait records no attempt');
  const startedAt = new Date(Date.now() - 25);
  return {
    attemptNo: item.attemptsMade + 1,
    outcome: result.outcome,
    httpStatus,
    error: result.outcome === 'SUCCEEDED' ? null : result.error,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 25),
  };
}

async function complete(item: ClaimedItem, result: AttemptResult, httpStatus = 200, carry = true) {
  const attempt = result.outcome === 'FAILED' && result.park ? undefined : record(item, result, httpStatus);
  const [settlement] = await completeItems(db, [{ item, attempt, result, carryOver: carry ? carryOver : undefined }]);
  if (!settlement?.ok) throw settlement?.error;
  return continueWith(item, result, settlement.value);
}

async function claimOne(): Promise<ClaimedItem> {
  const [item] = await claimOutboxBatch(db, 'engine', 1, 60_000);
  if (!item) throw new Error('nothing to claim');
  return item;
}

async function history(runId: string) {
  return db.selectFrom('run_events').selectAll().where('run_id', '=', runId).orderBy('seq').execute();
}

const brief = (events: Awaited<ReturnType<typeof history>>) =>
  events.map((e) => [e.seq, e.type, e.step_id, e.kind, e.attempt] as const);

async function expectContiguous(runId: string): Promise<void> {
  const events = await history(runId);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const run = await db
    .selectFrom('workflow_runs')
    .select('event_seq')
    .where('id', '=', runId)
    .executeTakeFirstOrThrow();
  expect(run.event_seq).toBe(events.length);
  for (let i = 1; i < events.length; i++)
    expect(events[i]!.at.getTime()).toBeGreaterThanOrEqual(events[i - 1]!.at.getTime());
}

describe('run history', () => {
  it('a 3-step success has the six events of docs/contract.md#run-history, in order, with every data key', async () => {
    const { runId } = await startRun(db, {
      workflowName: 'history',
      input: {},
      correlationId: 'h-1',
      idempotencyKey: 'k',
    });
    let item: ClaimedItem | undefined = await claimOne();
    for (let i = 0; item; i++) item = await complete(item, ok({ i }));
    const events = await history(runId);
    expect(brief(events)).toEqual([
      [1, 'RUN_CREATED', null, null, null],
      [2, 'RUN_STATUS_CHANGED', null, null, null],
      [3, 'ATTEMPT_FINISHED', 'a', 'action', 1],
      [4, 'ATTEMPT_FINISHED', 'b', 'action', 1],
      [5, 'ATTEMPT_FINISHED', 'c', 'action', 1],
      [6, 'RUN_STATUS_CHANGED', null, null, null],
    ]);
    expect(events[0]!.data).toEqual({
      workflowName: 'history',
      workflowVersion: '1.0.0',
      correlationId: 'h-1',
      idempotencyKey: 'k',
    });
    expect(events[1]!.data).toEqual({ from: 'PENDING', to: 'RUNNING', error: null });
    expect(events[2]!.data).toEqual({
      outcome: 'SUCCEEDED',
      httpStatus: 200,
      startedAt: expect.any(String),
      durationMs: 25,
      error: null,
      nextAttemptAt: null,
      stepStatus: 'SUCCEEDED',
      compensationStatus: 'PENDING',
    });
    expect(events[5]!.data).toEqual({ from: 'RUNNING', to: 'COMPLETED', error: null });
    await expectContiguous(runId);
  });

  it('a retry carries its nextAttemptAt; a failure then compensates; the final status change has the run error', async () => {
    const { runId } = await startRun(db, { workflowName: 'history', input: {}, correlationId: 'h-2' });
    const a = await complete(await claimOne(), ok(1));
    const retryAt = new Date(Date.now() - 1_000);
    const error = { code: 'HTTP_ERROR', message: 'answered 503' };
    await complete(a!, { outcome: 'RETRYABLE', retryAt, error }, 503);
    const b = await claimOne();
    const undo = await complete(b, { outcome: 'FAILED', error: { code: 'STEP_FAILED', message: 'answered 422' } }, 422);
    await complete(undo!, ok(null));
    const events = await history(runId);
    expect(brief(events).slice(2)).toEqual([
      [3, 'ATTEMPT_FINISHED', 'a', 'action', 1],
      [4, 'ATTEMPT_FINISHED', 'b', 'action', 1],
      [5, 'ATTEMPT_FINISHED', 'b', 'action', 2],
      [6, 'RUN_STATUS_CHANGED', null, null, null],
      [7, 'ATTEMPT_FINISHED', 'a', 'compensation', 1],
      [8, 'RUN_STATUS_CHANGED', null, null, null],
    ]);
    expect(events[3]!.data).toMatchObject({
      outcome: 'RETRYABLE',
      nextAttemptAt: retryAt.toISOString(),
      stepStatus: 'RUNNING',
    });
    expect(events[4]!.data).toMatchObject({ outcome: 'FAILED', nextAttemptAt: null, stepStatus: 'FAILED' });
    const failure = { code: 'STEP_FAILED', message: 'answered 422', stepId: 'b' };
    expect(events[5]!.data).toEqual({ from: 'RUNNING', to: 'COMPENSATING', error: failure });
    expect(events[6]!.data).toMatchObject({
      outcome: 'SUCCEEDED',
      stepStatus: 'SUCCEEDED',
      compensationStatus: 'COMPENSATED',
    });
    expect(events[7]!.data).toEqual({ from: 'COMPENSATING', to: 'COMPENSATED', error: failure });
    await expectContiguous(runId);
  });

  it('parking, a cancel and an operator retry appear, cause first', async () => {
    const parkedRun = (await startRun(db, { workflowName: 'history', input: {}, correlationId: 'h-3' })).runId;
    const a = await claimOne();
    await complete(a, { outcome: 'FAILED', park: true, error: { code: 'DELIVERY_EXHAUSTED', message: 'parked' } });
    expect(brief(await history(parkedRun)).slice(2)).toEqual([
      [3, 'DELIVERY_PARKED', 'a', 'action', null],
      [4, 'RUN_STATUS_CHANGED', null, null, null],
    ]);
    expect((await history(parkedRun))[2]!.data).toEqual({ deliveries: 1 });
    await retryStep(db, parkedRun, 'a');
    const retried = await history(parkedRun);
    expect(brief(retried).slice(4)).toEqual([
      [5, 'OPERATOR_ACTION', 'a', 'action', null],
      [6, 'RUN_STATUS_CHANGED', null, null, null],
    ]);
    expect(retried[4]!.data).toEqual({ action: 'retry-step', reason: null, operationId: null });
    expect(retried[5]!.data).toEqual({ from: 'FAILED', to: 'RUNNING', error: null });
    await expectContiguous(parkedRun);

    const cancelled = (await startRun(db, { workflowName: 'history', input: {}, correlationId: 'h-4' })).runId;
    await cancelRun(db, cancelled);
    expect(brief(await history(cancelled))).toEqual([
      [1, 'RUN_CREATED', null, null, null],
      [2, 'CANCEL_REQUESTED', null, null, null],
      [3, 'RUN_STATUS_CHANGED', null, null, null],
    ]);
    await expectContiguous(cancelled);
  });

  it("the run view shows a scheduled retry's due time as the step's nextAttemptAt, and null otherwise", async () => {
    const { runId } = await startRun(db, { workflowName: 'history', input: {}, correlationId: 'h-6' });
    const retryAt = new Date(Date.now() + 60_000);
    const error = { code: 'HTTP_ERROR', message: 'answered 503' };
    const item = await claimOne();
    expect((await getRun(db, runId))!.steps.map((s) => s.nextAttemptAt)).toEqual([null, null, null]);
    await complete(item, { outcome: 'RETRYABLE', retryAt, error }, 503);
    const view = await getRun(db, runId);
    expect(view!.steps.map((s) => s.nextAttemptAt)).toEqual([retryAt.toISOString(), null, null]);
    const events = await history(runId);
    expect(events.at(-1)!.data).toMatchObject({ outcome: 'RETRYABLE', nextAttemptAt: retryAt.toISOString() });
  });

  /** Runs `body` with a plain connection LISTENing on EVENTS_CHANNEL; `payloads` are its notifications, in order. */
  async function listening(body: (payloads: string[]) => Promise<void>): Promise<void> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const payloads: string[] = [];
      client.on('notification', (n) => payloads.push(n.payload ?? ''));
      await client.query(`listen ${EVENTS_CHANNEL}`);
      await body(payloads);
    } finally {
      await client.end();
    }
  }

  it('announces the runs with new history on EVENTS_CHANNEL at commit, while someone waits', async () => {
    await listening(async (payloads) => {
      await refreshEventListener(db, 'api-1', 60_000);
      const { runId } = await startRun(db, { workflowName: 'history', input: {}, correlationId: 'h-5' });
      await cancelRun(db, runId);
      await expect.poll(() => payloads).toEqual([runId, runId]);
    });
  });

  it('announces nothing while no event_listeners row is fresh (none, expired, removed)', async () => {
    await listening(async (payloads) => {
      const start = async (key: string) =>
        (await startRun(db, { workflowName: 'history', input: {}, correlationId: key })).runId;
      const unheard: string[] = [await start('none')];
      await sql`insert into event_listeners (id, expires_at) values ('api-gone', now() - interval '1 second')`.execute(
        db,
      );
      unheard.push(await start('expired'));
      await refreshEventListener(db, 'api-1', 60_000);
      await removeEventListener(db, 'api-1');
      unheard.push(await start('removed'));
      await claimOutboxBatch(db, 'engine', 10, 60_000);
      for (const runId of unheard) await cancelRun(db, runId);
      // notifications arrive in commit order: once the fresh row's are in, none of the earlier ones can follow
      await refreshEventListener(db, 'api-2', 60_000);
      const heard = await start('heard');
      await expect.poll(() => payloads).toEqual([heard]);
    });
  });

  it('claims more runs at once than one NOTIFY payload can name, and says "every run" instead', async () => {
    const runIds: string[] = [];
    for (let i = 0; i < 250; i += 1) {
      runIds.push((await startRun(db, { workflowName: 'history', input: {}, correlationId: `many-${i}` })).runId);
    }
    await listening(async (payloads) => {
      await refreshEventListener(db, 'api-1', 60_000);
      // 250 ids would be 9,249 bytes: over Postgres' 8,000-byte payload limit, which used to fail the whole claim
      const claimed = await claimOutboxBatch(db, 'engine', 250, 60_000);
      expect(new Set(claimed.map((item) => item.runId))).toEqual(new Set(runIds));
      await expect.poll(() => payloads).toEqual([EVENTS_ALL_RUNS]);
      const view = await getRun(db, runIds[0]!);
      expect(view?.run.status).toBe('RUNNING');
    });
  });
});
