import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as completeItemModule from '../src/queries/complete-item.js';
import type { AttemptRecord, AttemptResult, RunState } from '@sagaflow/saga';
import {
  cancelRun,
  claimOutboxBatch,
  completeItems,
  LeaseLostError,
  OUTBOX_CHANNEL,
  registerDefinition,
  releaseLeases,
  startRun,
  type ClaimedItem,
  type CompletionOutcome,
  type CompletionRequest,
  type CompletionSettlement,
  type Db,
  continueWith,
} from '../src/index.js';
import { lockRunState } from '../src/queries/run-state.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { definitionOf } from './support/definitions.js';

/**
 * completeItems (group commit of completions) against a real Postgres: the fast path (one guarded statement for the
 * batch, planned from the held states) and its fallbacks to the locked path (completeItem), which is wrapped in a
 * spy so a test can tell which path an item took.
 */

vi.mock('../src/queries/complete-item.js', async (importOriginal) => {
  const original = await importOriginal<typeof completeItemModule>();
  return { ...original, completeItem: vi.fn(original.completeItem) };
});
const lockedPath = vi.mocked(completeItemModule.completeItem);

let database: TestDatabase;
let db: Db;
beforeEach(async () => {
  // a database per test: a claim takes every due item, so nothing may be left over from another test
  database = await createTestDatabase();
  db = database.db;
  await registerDefinition(db, SAGA);
  lockedPath.mockClear();
});
afterEach(async () => {
  await database?.drop();
});

/** s0 and s1 are compensable, s2 is not. No HTTP is made in these tests. */
const SAGA = definitionOf({
  name: 'three',
  version: '1.0.0',
  steps: [
    {
      id: 's0',
      request: { method: 'POST', url: 'http://127.0.0.1:9/s0' },
      compensation: { id: 'undo-s0', request: { method: 'POST', url: 'http://127.0.0.1:9/undo-s0' } },
    },
    {
      id: 's1',
      request: { method: 'POST', url: 'http://127.0.0.1:9/s1' },
      compensation: { id: 'undo-s1', request: { method: 'POST', url: 'http://127.0.0.1:9/undo-s1' } },
    },
    { id: 's2', request: { method: 'POST', url: 'http://127.0.0.1:9/s2' } },
  ],
});

const OWNER = 'engine-a';
const LEASE_MS = 60_000;
const carryOver = { owner: OWNER, leaseMs: 30_000 };

/** Starts `n` runs and claims their first items together; returned in start order. */
async function startAndClaim(n: number, owner = OWNER): Promise<ClaimedItem[]> {
  const runIds: string[] = [];
  for (let i = 0; i < n; i++)
    runIds.push((await startRun(db, { workflowName: 'three', input: { i }, correlationId: `c-${i}` })).runId);
  const claimed = await claimOutboxBatch(db, owner, n + 5, LEASE_MS);
  expect(claimed).toHaveLength(n);
  return runIds.map((id) => claimed.find((c) => c.runId === id)!);
}

/** The item as its holder completes it: the claim's ClaimedItem as it is. */
const held = (c: ClaimedItem): ClaimedItem => c;

/** The next item as the engine holds it after a completion carried the lease on. */
function heldNext(previous: ClaimedItem, outcome: CompletionOutcome): ClaimedItem {
  const next = continueWith(previous, { outcome: 'SUCCEEDED', output: null }, outcome);
  if (!next) throw new Error('nothing was carried');
  return next;
}

function attempt(attemptNo: number, result: AttemptResult): AttemptRecord {
  if (result.outcome === 'WAITING') throw new Error('a wait records no attempt');
  const startedAt = new Date(Date.now() - 20);
  const finishedAt = new Date();
  if (result.outcome === 'SUCCEEDED')
    return { attemptNo, outcome: 'SUCCEEDED', httpStatus: 200, error: null, startedAt, finishedAt };
  return {
    attemptNo,
    outcome: result.outcome,
    httpStatus: result.outcome === 'RETRYABLE' ? 503 : 422,
    error: result.error,
    startedAt,
    finishedAt,
  };
}

/** With carryOver unless `carry` is false (then what comes next is handed back to the outbox). */
function request(
  item: ClaimedItem,
  attemptNo: number | undefined,
  result: AttemptResult,
  carry = true,
): CompletionRequest {
  return {
    item,
    attempt: attemptNo === undefined ? undefined : attempt(attemptNo, result),
    result,
    carryOver: carry ? carryOver : undefined,
  };
}

function ok(settlement: CompletionSettlement | undefined): CompletionOutcome {
  if (!settlement) throw new Error('no settlement');
  if (!settlement.ok) throw settlement.error;
  return settlement.value;
}

async function completeOne(req: CompletionRequest): Promise<CompletionOutcome> {
  const settlements = await completeItems(db, [req]);
  expect(settlements).toHaveLength(1);
  return ok(settlements[0]);
}

const succeeded = (output: unknown): AttemptResult => ({ outcome: 'SUCCEEDED', output });

// --- reading the rows back -------------------------------------------------------------------------------------------

async function freshSnapshot(runId: string): Promise<RunState> {
  const run = await db.transaction().execute((trx) => lockRunState(trx, runId));
  if (!run) throw new Error(`run ${runId} not found`);
  return run;
}

async function runRow(runId: string) {
  return db.selectFrom('workflow_runs').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
}

async function stepRows(runId: string) {
  return db.selectFrom('run_steps').selectAll().where('run_id', '=', runId).orderBy('step_index').execute();
}

async function outboxRows(runId: string) {
  return db.selectFrom('outbox').selectAll().where('run_id', '=', runId).orderBy('id').execute();
}

async function attemptRows(runId: string) {
  return db.selectFrom('step_attempts').selectAll().where('run_id', '=', runId).orderBy('id').execute();
}

/** Seconds from the database's now() to a timestamp. */
async function secondsFromNow(at: Date): Promise<number> {
  const { rows } = await sql<{
    s: number;
  }>`select extract(epoch from (${at}::timestamptz - now()))::float8 as s`.execute(db);
  return rows[0]!.s;
}

// --- the tests -------------------------------------------------------------------------------------------------------

describe('completeItems: the fast path', () => {
  it('settles a batch of items of different runs in one statement, each carried on to its next step', async () => {
    const claimed = await startAndClaim(5);
    // requests in another order than the claim: settlements come back in request order
    const order = [3, 0, 4, 1, 2];
    const requests = order.map((i) => request(held(claimed[i]!), 1, succeeded({ n: i })));
    const settlements = await completeItems(db, requests);

    expect(settlements).toHaveLength(5);
    expect(lockedPath).not.toHaveBeenCalled();
    const tokens = new Set<string>();
    for (const [k, i] of order.entries()) {
      const c = claimed[i]!;
      const outcome = ok(settlements[k]);
      expect(outcome.before.runId).toBe(c.runId);

      const carried = outcome.carried;
      expect(carried).toEqual({ stepIndex: 1, kind: 'action', leaseToken: expect.any(String) });
      expect(continueWith(c, requests[k]!.result, outcome)).toMatchObject({
        stepIndex: 1,
        kind: 'action',
        leaseToken: carried!.leaseToken,
        stepId: 's1',
        attemptsMade: 0,
        attemptsBeforeRetry: 0,
        deliveries: 1,
        outputs: { s0: { n: i } },
        state: outcome.after,
        stateStale: false,
      });
      expect(carried!.leaseToken).not.toBe(c.leaseToken);
      tokens.add(carried!.leaseToken);

      const steps = await stepRows(c.runId);
      expect(steps[0]).toMatchObject({
        status: 'SUCCEEDED',
        output: { n: i },
        attempts: 1,
        error: null,
        compensation_status: 'PENDING',
      });
      expect(steps[0]!.finished_at).toBeInstanceOf(Date);
      expect(steps[1]).toMatchObject({ status: 'RUNNING', attempts: 0, finished_at: null });
      expect(steps[1]!.started_at).toBeInstanceOf(Date);
      expect(steps[2]).toMatchObject({ status: 'PENDING', started_at: null });

      const attempts = await attemptRows(c.runId);
      expect(attempts).toHaveLength(1);
      expect(attempts[0]).toMatchObject({
        step_index: 0,
        kind: 'action',
        attempt_no: 1,
        outcome: 'SUCCEEDED',
        http_status: 200,
        error: null,
      });

      const items = await outboxRows(c.runId);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({
        id: c.id,
        step_index: 1,
        kind: 'action',
        status: 'READY',
        lease_owner: OWNER,
        lease_token: carried!.leaseToken,
        deliveries: 1,
      });
      const leaseLeft = await secondsFromNow(items[0]!.due_at);
      expect(leaseLeft).toBeGreaterThan(20);
      expect(leaseLeft).toBeLessThanOrEqual(30);

      const run = await runRow(c.runId);
      expect(run).toMatchObject({ status: 'RUNNING', error: null, completed_at: null });

      // what the carried item will plan from is exactly what is in the database
      expect(outcome.after).toEqual(await freshSnapshot(c.runId));
      expect(outcome.after.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'RUNNING', 'PENDING']);
    }
    expect(tokens.size).toBe(5);

    // one transaction for the whole batch: every row it wrote carries the same xmin (transaction id)
    const runIds = claimed.map((c) => c.runId);
    const { rows } = await sql<{ xmin: string }>`
      select xmin::text as xmin from run_steps where run_id = any(${runIds}::uuid[]) and step_index in (0, 1)
      union all select xmin::text from outbox where run_id = any(${runIds}::uuid[])
      union all select xmin::text from step_attempts where run_id = any(${runIds}::uuid[])
    `.execute(db);
    expect(rows).toHaveLength(5 * 2 + 5 + 5);
    expect(new Set(rows.map((r) => r.xmin)).size).toBe(1);
  });

  it('drives runs to COMPLETED through carried items, each planned from the previous outcome.after', async () => {
    const claimed = await startAndClaim(2);
    let items = claimed.map(held);
    for (let step = 0; step < 3; step++) {
      expect(items.map((i) => i.stepIndex)).toEqual([step, step]);
      const settlements = await completeItems(
        db,
        items.map((item, r) => request(item, 1, succeeded({ run: r, step }))),
      );
      const outcomes = settlements.map(ok);
      for (const [r, outcome] of outcomes.entries()) {
        expect(outcome.after).toEqual(await freshSnapshot(items[r]!.runId));
        if (step < 2) expect(outcome.carried).toMatchObject({ stepIndex: step + 1, kind: 'action' });
        else expect(outcome.carried).toBeUndefined();
      }
      if (step < 2) items = items.map((item, r) => heldNext(item, outcomes[r]!));
    }
    expect(lockedPath).not.toHaveBeenCalled();

    for (const [r, c] of claimed.entries()) {
      const run = await runRow(c.runId);
      expect(run.status).toBe('COMPLETED');
      expect(run.completed_at).toBeInstanceOf(Date);
      expect(run.error).toBeNull();
      const steps = await stepRows(c.runId);
      expect(steps.map((s) => [s.status, s.attempts, s.output])).toEqual(
        [0, 1, 2].map((step) => ['SUCCEEDED', 1, { run: r, step }]),
      );
      expect(await outboxRows(c.runId)).toEqual([]);
      expect((await attemptRows(c.runId)).map((a) => a.step_index)).toEqual([0, 1, 2]);
    }
  });

  it('fails a step permanently, skips the rest and compensates, carrying the compensation on', async () => {
    const [c] = await startAndClaim(1);
    const first = await completeOne(request(held(c!), 1, succeeded({ a: 1 })));
    const step1 = heldNext(held(c!), first);

    const failure: AttemptResult = { outcome: 'FAILED', error: { code: 'STEP_FAILED', message: 'x' } };
    const failed = await completeOne(request(step1, 1, failure));
    expect(failed.carried).toMatchObject({ stepIndex: 0, kind: 'compensation' });
    expect(heldNext(step1, failed)).toMatchObject({ stepId: 's0', attemptsMade: 0 });
    expect(failed.after).toEqual(await freshSnapshot(c!.runId));

    const run = await runRow(c!.runId);
    expect(run.status).toBe('COMPENSATING');
    expect(run.error).toEqual({ code: 'STEP_FAILED', message: 'x', stepId: 's1' });
    expect(run.completed_at).toBeNull();
    let steps = await stepRows(c!.runId);
    expect(steps.map((s) => [s.status, s.compensation_status])).toEqual([
      ['SUCCEEDED', 'RUNNING'],
      ['FAILED', 'PENDING'],
      ['SKIPPED', 'NONE'],
    ]);
    expect(steps[1]).toMatchObject({ attempts: 1, error: { code: 'STEP_FAILED', message: 'x' } });
    expect(steps[1]!.finished_at).toBeInstanceOf(Date);
    expect(steps[2]).toMatchObject({ attempts: 0, started_at: null });
    const items = await outboxRows(c!.runId);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      id: c!.id,
      step_index: 0,
      kind: 'compensation',
      status: 'READY',
      lease_owner: OWNER,
      lease_token: failed.carried!.leaseToken,
      deliveries: 1,
    });

    const compensated = await completeOne(request(heldNext(step1, failed), 1, succeeded({ undone: true })));
    expect(compensated.carried).toBeUndefined();
    expect(compensated.after).toEqual(await freshSnapshot(c!.runId));
    expect(lockedPath).not.toHaveBeenCalled();

    const done = await runRow(c!.runId);
    expect(done.status).toBe('COMPENSATED');
    expect(done.completed_at).toBeInstanceOf(Date);
    expect(done.error).toEqual({ code: 'STEP_FAILED', message: 'x', stepId: 's1' });
    steps = await stepRows(c!.runId);
    expect(steps[0]).toMatchObject({
      status: 'SUCCEEDED',
      compensation_status: 'COMPENSATED',
      compensation_attempts: 1,
      compensation_error: null,
    });
    expect(steps[0]!.compensated_at).toBeInstanceOf(Date);
    expect(await outboxRows(c!.runId)).toEqual([]);
    expect((await attemptRows(c!.runId)).map((a) => [a.step_index, a.kind, a.outcome])).toEqual([
      [0, 'action', 'SUCCEEDED'],
      [1, 'action', 'FAILED'],
      [0, 'compensation', 'SUCCEEDED'],
    ]);
  });

  it('a RETRYABLE result moves the item to a later retry of the same step, unleased, and carries nothing', async () => {
    const [c] = await startAndClaim(1);
    const retryAt = new Date(Date.now() + 3_600_000);
    const error = { code: 'HTTP_ERROR', message: 'answered 503' };
    const outcome = await completeOne(request(held(c!), 1, { outcome: 'RETRYABLE', retryAt, error }));
    expect(lockedPath).not.toHaveBeenCalled();
    expect(outcome.carried).toBeUndefined();
    expect(outcome.after).toEqual(await freshSnapshot(c!.runId));

    const items = await outboxRows(c!.runId);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      id: c!.id,
      step_index: 0,
      kind: 'action',
      status: 'READY',
      lease_owner: null,
      lease_token: null,
      deliveries: 0,
    });
    expect(items[0]!.due_at.getTime()).toBe(retryAt.getTime());
    const steps = await stepRows(c!.runId);
    expect(steps[0]).toMatchObject({ status: 'RUNNING', attempts: 1, error, finished_at: null });
    expect((await runRow(c!.runId)).status).toBe('RUNNING');
    expect(await attemptRows(c!.runId)).toMatchObject([
      { step_index: 0, attempt_no: 1, outcome: 'RETRYABLE', http_status: 503, error },
    ]);

    // the retry, once due, is claimed again and succeeds: the error is cleared and the attempts counted on
    await db
      .updateTable('outbox')
      .set({ due_at: new Date(Date.now() - 1_000) })
      .where('id', '=', c!.id)
      .execute();
    const [again] = await claimOutboxBatch(db, OWNER, 10, LEASE_MS);
    expect(again).toMatchObject({ id: c!.id, stepIndex: 0, attemptsMade: 1 });
    const second = await completeOne(request(held(again!), 2, succeeded('fine')));
    expect(second.carried).toMatchObject({ stepIndex: 1 });
    expect((await stepRows(c!.runId))[0]).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 2,
      error: null,
      output: 'fine',
    });
    expect(lockedPath).not.toHaveBeenCalled();
  });

  it('without carryOver the next item is handed back due now, unleased, and the engines are woken', async () => {
    const [c] = await startAndClaim(1);
    const listener = new pg.Client(database.url);
    await listener.connect();
    try {
      const woken = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(n.channel)));
      await listener.query(`listen ${OUTBOX_CHANNEL}`);
      const outcome = await completeOne(request(held(c!), 1, succeeded(1), false));
      expect(outcome.carried).toBeUndefined();
      expect(lockedPath).not.toHaveBeenCalled();
      const items = await outboxRows(c!.runId);
      expect(items[0]).toMatchObject({
        step_index: 1,
        kind: 'action',
        lease_owner: null,
        lease_token: null,
        deliveries: 0,
      });
      expect(await secondsFromNow(items[0]!.due_at)).toBeLessThanOrEqual(0);
      expect((await stepRows(c!.runId))[1]!.status).toBe('PENDING');
      expect(outcome.after).toEqual(await freshSnapshot(c!.runId));
      const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('no notification'), 5_000));
      expect(await Promise.race([woken, timeout])).toBe(OUTBOX_CHANNEL);
    } finally {
      await listener.end();
    }
  });
});

describe('completeItems: fencing and guards', () => {
  it('an item whose lease was taken over settles LeaseLostError and commits nothing; the rest of the batch commits', async () => {
    const [a, b, c] = await startAndClaim(3);
    // a's lease is handed back and another engine claims it (a new token)
    expect(await releaseLeases(db, [{ id: a!.id, leaseToken: a!.leaseToken }])).toBe(1);
    const [taken] = await claimOutboxBatch(db, 'engine-b', 10, LEASE_MS);
    expect(taken).toMatchObject({ id: a!.id });
    expect(taken!.leaseToken).not.toBe(a!.leaseToken);

    const settlements = await completeItems(
      db,
      [a, b, c].map((x, i) => request(held(x!), 1, succeeded({ i }))),
    );
    const lost = settlements[0]!;
    expect(lost.ok).toBe(false);
    if (lost.ok) throw new Error('unreachable');
    expect(lost.error).toBeInstanceOf(LeaseLostError);
    expect((lost.error as LeaseLostError).outboxId).toBe(a!.id);
    expect(ok(settlements[1]).carried).toMatchObject({ stepIndex: 1 });
    expect(ok(settlements[2]).carried).toMatchObject({ stepIndex: 1 });

    // nothing of a's completion committed
    expect(await attemptRows(a!.runId)).toEqual([]);
    expect((await stepRows(a!.runId)).map((s) => [s.status, s.attempts, s.output, s.finished_at])).toEqual([
      ['RUNNING', 0, null, null],
      ['PENDING', 0, null, null],
      ['PENDING', 0, null, null],
    ]);
    expect(await outboxRows(a!.runId)).toMatchObject([
      { id: a!.id, step_index: 0, kind: 'action', lease_owner: 'engine-b', lease_token: taken!.leaseToken },
    ]);
    // the others did
    for (const x of [b!, c!]) {
      expect((await stepRows(x.runId)).map((s) => s.status)).toEqual(['SUCCEEDED', 'RUNNING', 'PENDING']);
      expect(await attemptRows(x.runId)).toHaveLength(1);
    }
  });

  it('a run cancelled after the claim goes through the locked path and unwinds instead of moving forward', async () => {
    const [a, b] = await startAndClaim(2);
    expect(await cancelRun(db, a!.runId)).toEqual({ runId: a!.runId, status: 'CANCELLING' });
    // the held snapshot predates the cancel
    expect(a!.state).toMatchObject({ status: 'RUNNING', cancelRequested: false });

    const settlements = await completeItems(db, [
      request(held(a!), 1, succeeded({ made: true })),
      request(held(b!), 1, succeeded({ b: 1 })),
    ]);
    expect(lockedPath).toHaveBeenCalledTimes(1);
    expect(lockedPath.mock.calls[0]![1]).toMatchObject({ id: a!.id, runId: a!.runId });

    const cancelled = ok(settlements[0]);
    expect(cancelled.before).toMatchObject({ status: 'CANCELLING', cancelRequested: true });
    expect(cancelled.carried).toMatchObject({ stepIndex: 0, kind: 'compensation' });
    expect(cancelled.after).toMatchObject({ status: 'CANCELLING', cancelRequested: true });
    expect(cancelled.after).toEqual(await freshSnapshot(a!.runId));

    const run = await runRow(a!.runId);
    expect(run.status).toBe('CANCELLING');
    expect(run.error).toEqual({ code: 'CANCELLED', message: 'run cancelled by request' });
    expect(run.cancel_requested_at).toBeInstanceOf(Date);
    expect((await stepRows(a!.runId)).map((s) => [s.status, s.compensation_status])).toEqual([
      ['SUCCEEDED', 'RUNNING'],
      ['SKIPPED', 'PENDING'],
      ['SKIPPED', 'NONE'],
    ]);
    expect(await outboxRows(a!.runId)).toMatchObject([
      {
        id: a!.id,
        step_index: 0,
        kind: 'compensation',
        lease_owner: OWNER,
        lease_token: cancelled.carried!.leaseToken,
        deliveries: 1,
      },
    ]);
    expect(await attemptRows(a!.runId)).toHaveLength(1);

    // the other run of the batch went forward on the fast path
    expect(ok(settlements[1]).carried).toMatchObject({ stepIndex: 1, kind: 'action' });
    expect((await stepRows(b!.runId)).map((s) => s.status)).toEqual(['SUCCEEDED', 'RUNNING', 'PENDING']);

    // the carried compensation (planned from the fresh after) finishes the cancel on the fast path
    lockedPath.mockClear();
    const undone = await completeOne(request(heldNext(held(a!), cancelled), 1, succeeded(null)));
    expect(lockedPath).not.toHaveBeenCalled();
    expect(undone.carried).toBeUndefined();
    const end = await runRow(a!.runId);
    expect(end.status).toBe('CANCELLED');
    expect(end.completed_at).toBeInstanceOf(Date);
    expect(end.error).toEqual({ code: 'CANCELLED', message: 'run cancelled by request' });
    expect((await stepRows(a!.runId))[0]).toMatchObject({ compensation_status: 'COMPENSATED' });
    expect(await outboxRows(a!.runId)).toEqual([]);
  });

  it('a claim reports its snapshot stale only when the item changed under it; a stale one takes the locked path', async () => {
    const [a, b] = await startAndClaim(2);
    // nothing committed between these claims' snapshots and their locks
    expect([a!.stateStale, b!.stateStale]).toEqual([false, false]);

    // a stale snapshot may be wrong in any way (here: it missed that step 0 had started): it must not be trusted
    const stale: ClaimedItem = {
      ...held(a!),
      stateStale: true,
      state: { ...a!.state, steps: a!.state.steps.map((st) => ({ ...st, status: 'PENDING' as const })) },
    };
    const settlements = await completeItems(db, [
      request(stale, 1, succeeded({ a: 1 })),
      request(held(b!), 1, succeeded({ b: 1 })),
    ]);
    expect(lockedPath).toHaveBeenCalledTimes(1);
    expect(lockedPath.mock.calls[0]![1]).toMatchObject({ id: a!.id });
    const done = ok(settlements[0]);
    // the locked path planned from the rows (step 0 RUNNING), not from the stale picture
    expect(done.before.steps.map((st) => st.status)).toEqual(['RUNNING', 'PENDING', 'PENDING']);
    expect(done.after).toEqual(await freshSnapshot(a!.runId));
    expect((await stepRows(a!.runId)).map((st) => st.status)).toEqual(['SUCCEEDED', 'RUNNING', 'PENDING']);
    expect(ok(settlements[1]).carried).toMatchObject({ stepIndex: 1, kind: 'action' });
  });

  it('a cancel that commits while the batch waits for the run lock still sends the item down the locked path', async () => {
    const [a] = await startAndClaim(1);
    const blocker = await database.pool.connect();
    let pending: Promise<CompletionSettlement[]> | undefined;
    try {
      await blocker.query('begin');
      // what cancelRun does to a run whose item is leased, held uncommitted
      await blocker.query(
        `update workflow_runs set status = 'CANCELLING', cancel_requested_at = now(), updated_at = now(),
                error = '{"code":"CANCELLED","message":"run cancelled by request"}' where id = $1`,
        [a!.runId],
      );
      pending = completeItems(db, [request(held(a!), 1, succeeded({ late: true }))]);
      // wait until the batched statement is blocked on the run's row lock
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity
           where datname = current_database() and wait_event_type = 'Lock' and query like '%jsonb_to_recordset%'
        `.execute(db);
        if (rows[0]!.n > 0) break;
        if (Date.now() > deadline) throw new Error('the batch never waited for the lock');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await blocker.query('commit');
    } finally {
      blocker.release();
    }
    const outcome = ok((await pending)[0]);
    expect(lockedPath).toHaveBeenCalledTimes(1);
    expect(outcome.carried).toMatchObject({ stepIndex: 0, kind: 'compensation' });
    expect((await runRow(a!.runId)).status).toBe('CANCELLING');
    expect((await stepRows(a!.runId)).map((s) => [s.status, s.compensation_status])).toEqual([
      ['SUCCEEDED', 'RUNNING'],
      ['SKIPPED', 'PENDING'],
      ['SKIPPED', 'NONE'],
    ]);
    expect(await attemptRows(a!.runId)).toHaveLength(1);
    expect(outcome.after).toEqual(await freshSnapshot(a!.runId));
  });

  it('a snapshot that already saw the cancel (redelivery after the lease expired) unwinds on the fast path', async () => {
    const [a, b] = await startAndClaim(2);
    for (const x of [a!, b!]) expect((await cancelRun(db, x.runId)).status).toBe('CANCELLING');
    // the first engine's leases expire; another engine claims the items again, seeing the cancel
    await db
      .updateTable('outbox')
      .set({ due_at: new Date(Date.now() - 1_000) })
      .where('run_id', 'in', [a!.runId, b!.runId])
      .execute();
    const reclaimed = await claimOutboxBatch(db, 'engine-b', 10, LEASE_MS);
    expect(reclaimed).toHaveLength(2);
    const [ra, rb] = [a!, b!].map((x) => reclaimed.find((r) => r.runId === x.runId)!);
    expect(ra!.state).toMatchObject({ status: 'CANCELLING', cancelRequested: true });

    const retryAt = new Date(Date.now() + 3_600_000);
    const settlements = await completeItems(db, [
      request(held(ra!), 1, succeeded({ made: true })),
      request(held(rb!), 1, { outcome: 'RETRYABLE', retryAt, error: { code: 'HTTP_ERROR', message: 'answered 503' } }),
    ]);
    expect(lockedPath).not.toHaveBeenCalled();

    // a: its step succeeded, so it is compensated (the same step's compensation carried on)
    const unwinding = ok(settlements[0]);
    expect(unwinding.carried).toMatchObject({ stepIndex: 0, kind: 'compensation' });
    expect(unwinding.after).toEqual(await freshSnapshot(a!.runId));
    expect((await runRow(a!.runId)).status).toBe('CANCELLING');
    expect((await stepRows(a!.runId)).map((s) => [s.status, s.compensation_status])).toEqual([
      ['SUCCEEDED', 'RUNNING'],
      ['SKIPPED', 'PENDING'],
      ['SKIPPED', 'NONE'],
    ]);
    expect(await outboxRows(a!.runId)).toMatchObject([
      { step_index: 0, kind: 'compensation', lease_owner: OWNER, lease_token: unwinding.carried!.leaseToken },
    ]);

    // b: the cancel withdraws its retry; nothing succeeded, so the run is CANCELLED at once
    const withdrawn = ok(settlements[1]);
    expect(withdrawn.carried).toBeUndefined();
    expect(withdrawn.after).toEqual(await freshSnapshot(b!.runId));
    const run = await runRow(b!.runId);
    expect(run).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CANCELLED', message: 'run cancelled by request' },
    });
    expect(run.completed_at).toBeInstanceOf(Date);
    const steps = await stepRows(b!.runId);
    expect(steps.map((s) => s.status)).toEqual(['FAILED', 'SKIPPED', 'SKIPPED']);
    expect(steps[0]!.error).toMatchObject({
      code: 'CANCELLED',
      lastError: { code: 'HTTP_ERROR', message: 'answered 503' },
    });
    expect(await outboxRows(b!.runId)).toEqual([]);
  });

  it('a failed compensation parks (on the fast path, like any plan) and fails the run', async () => {
    const [c] = await startAndClaim(1);
    const first = await completeOne(request(held(c!), 1, succeeded({ a: 1 })));
    const step1 = heldNext(held(c!), first);
    const failed = await completeOne(
      request(step1, 1, { outcome: 'FAILED', error: { code: 'STEP_FAILED', message: 'x' } }),
    );
    expect(lockedPath).not.toHaveBeenCalled();

    const compFailure: AttemptResult = {
      outcome: 'FAILED',
      error: { code: 'HTTP_ERROR', message: 'undo answered 500' },
    };
    const outcome = await completeOne(request(heldNext(step1, failed), 1, compFailure));
    expect(lockedPath).not.toHaveBeenCalled();
    expect(outcome.carried).toBeUndefined();
    expect(outcome.after).toEqual(await freshSnapshot(c!.runId));
    const run = await runRow(c!.runId);
    expect(run).toMatchObject({
      status: 'FAILED',
      error: { code: 'COMPENSATION_FAILED', message: 'undo answered 500', stepId: 's0' },
    });
    expect(run.completed_at).toBeInstanceOf(Date);
    expect((await stepRows(c!.runId))[0]).toMatchObject({
      compensation_status: 'FAILED',
      compensation_attempts: 1,
      compensation_error: { code: 'HTTP_ERROR', message: 'undo answered 500' },
    });
    expect(await outboxRows(c!.runId)).toMatchObject([
      { id: c!.id, status: 'DEAD', kind: 'compensation', step_index: 0, lease_token: null },
    ]);
  });

  it('refuses two items of the same run in one call, committing nothing', async () => {
    const [c] = await startAndClaim(1);
    const req = request(held(c!), 1, succeeded(1));
    await expect(completeItems(db, [req, { ...req }])).rejects.toThrow(/one item per run/);
    expect(lockedPath).not.toHaveBeenCalled();
    expect(await attemptRows(c!.runId)).toEqual([]);
    expect((await stepRows(c!.runId))[0]).toMatchObject({ status: 'RUNNING', attempts: 0 });
    expect(await outboxRows(c!.runId)).toMatchObject([{ step_index: 0, lease_token: c!.leaseToken }]);
  });

  it('parking is an ordinary write of the fast path: the item is left DEAD and a new compensation item is enqueued', async () => {
    const [c] = await startAndClaim(1);
    const first = await completeOne(request(held(c!), 1, succeeded({ a: 1 })));
    expect(lockedPath).not.toHaveBeenCalled();
    const step1 = heldNext(held(c!), first);

    const park: AttemptResult = { outcome: 'FAILED', park: true, error: { code: 'DELIVERY_EXHAUSTED', message: 'm' } };
    const parked = await completeOne(request(step1, undefined, park));
    expect(lockedPath).not.toHaveBeenCalled();
    expect(parked.plan.item.type).toBe('park');
    expect(parked.carried).toBeUndefined();
    expect(parked.after).toEqual(await freshSnapshot(c!.runId));

    const run = await runRow(c!.runId);
    expect(run.status).toBe('COMPENSATING');
    expect(run.error).toEqual({ code: 'DELIVERY_EXHAUSTED', message: 'm', stepId: 's1' });
    expect((await stepRows(c!.runId)).map((s) => [s.status, s.compensation_status])).toEqual([
      ['SUCCEEDED', 'PENDING'],
      ['FAILED', 'PENDING'],
      ['SKIPPED', 'NONE'],
    ]);
    const items = await outboxRows(c!.runId);
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({
      id: c!.id,
      status: 'DEAD',
      step_index: 1,
      kind: 'action',
      lease_owner: null,
      lease_token: null,
      last_error: { code: 'DELIVERY_EXHAUSTED', message: 'm' },
    });
    expect(items[1]).toMatchObject({
      status: 'READY',
      step_index: 0,
      kind: 'compensation',
      lease_owner: null,
      lease_token: null,
      deliveries: 0,
    });
    expect(await secondsFromNow(items[1]!.due_at)).toBeLessThanOrEqual(0);
    // no attempt was made for the parked delivery
    expect((await attemptRows(c!.runId)).map((a) => a.step_index)).toEqual([0]);
  });
});
