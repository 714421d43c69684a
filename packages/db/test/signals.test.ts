import type { AttemptResult, StepWait } from '@sagaflow/saga';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimOutboxBatch,
  completeItem,
  completeItems,
  ConflictError,
  LeaseLostError,
  NotFoundError,
  oldestSignal,
  readRunEvents,
  sendSignal,
  startRun,
  type ClaimedItem,
  type Db,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { registerDefinitions } from './support/definitions.js';

/**
 * The signal mailbox and its consumption through the one writer (docs/contract.md#durable-waits), driven by hand as
 * an engine would: claim, decide, complete. No engine runs here, so two "engines" can be made to race exactly.
 */

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await registerDefinitions(db, {
    name: 'approve',
    version: '1.0.0',
    steps: [{ id: 'await-approval', waitForSignal: { name: 'approval', timeoutMs: 3_600_000 } }],
  });
});
afterAll(async () => {
  await database?.drop();
});

const start = async () => (await startRun(db, { workflowName: 'approve', input: {}, correlationId: 'c' })).runId;

async function claimRun(owner: string, runId: string): Promise<ClaimedItem> {
  // other tests' runs may be due: claim until ours comes (each test uses its own run)
  const items = await claimOutboxBatch(db, owner, 100, 60_000);
  const mine = items.find((i) => i.runId === runId);
  if (!mine) throw new Error(`run ${runId} was not due`);
  return mine;
}

const waitOf = (until: Date): StepWait => ({ for: 'signal', until, signal: 'approval' });

/** The run's item begins to wait (as the engine commits a WAITING result). */
async function beginWait(runId: string): Promise<StepWait> {
  const item = await claimRun('engine-a', runId);
  const wait = waitOf(new Date(Date.now() + 3_600_000));
  const result: AttemptResult = { outcome: 'WAITING', wait, began: true };
  await completeItem(db, item, undefined, result);
  return wait;
}

const woken = (wait: StepWait, signalId: string, payload: unknown): AttemptResult => ({
  outcome: 'SUCCEEDED',
  output: payload,
  woken: { wait, began: false, cause: 'signal', signalId },
});

const dueAt = async (runId: string) =>
  (
    await db
      .selectFrom('outbox')
      .select(['due_at', 'lease_owner'])
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow()
  ).due_at;

describe('sendSignal', () => {
  it('keeps a signal for a run that does not wait yet, and makes a waiting run due now', async () => {
    const runId = await start();
    const early = await sendSignal(db, { runId, name: 'other', payload: { a: 1 } });
    expect(early).toMatchObject({ runId, name: 'other', consumed: false, created: true });
    const wait = await beginWait(runId);
    expect((await dueAt(runId)).getTime()).toBe(wait.until.getTime());
    await sendSignal(db, { runId, name: 'approval', payload: { approved: true } });
    expect((await dueAt(runId)).getTime()).toBeLessThanOrEqual(Date.now());
    const events = (await readRunEvents(db, runId, 0, 100))!.events.map((e) => e.type);
    expect(events).toEqual(['RUN_CREATED', 'SIGNAL_RECEIVED', 'RUN_STATUS_CHANGED', 'STEP_WAITING', 'SIGNAL_RECEIVED']);
  });

  it('a wait that begins while its signal is already in the mailbox is due at once', async () => {
    const runId = await start();
    const item = await claimRun('engine-a', runId);
    // the signal commits after the engine read an empty mailbox, before its WAITING commits
    await sendSignal(db, { runId, name: 'approval' });
    await completeItems(db, [
      {
        item,
        attempt: undefined,
        result: { outcome: 'WAITING', wait: waitOf(new Date(Date.now() + 3_600_000)), began: true },
      },
    ]);
    expect((await dueAt(runId)).getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('idempotency key: the same payload returns the same signal and stores nothing; another payload is 409', async () => {
    const runId = await start();
    const first = await sendSignal(db, { runId, name: 'approval', payload: { ok: 1 }, idempotencyKey: 'k1' });
    const again = await sendSignal(db, { runId, name: 'approval', payload: { ok: 1 }, idempotencyKey: 'k1' });
    expect(again).toEqual({ ...first, created: false });
    await expect(
      sendSignal(db, { runId, name: 'approval', payload: { ok: 2 }, idempotencyKey: 'k1' }),
    ).rejects.toBeInstanceOf(ConflictError);
    const rows = await db.selectFrom('run_signals').select('id').where('run_id', '=', runId).execute();
    expect(rows).toHaveLength(1);
    const events = (await readRunEvents(db, runId, 0, 100))!.events.filter((e) => e.type === 'SIGNAL_RECEIVED');
    expect(events).toHaveLength(1);
  });

  it('unknown run → NotFoundError', async () => {
    await expect(
      sendSignal(db, { runId: '00000000-0000-7000-8000-000000000000', name: 'approval' }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('consumption', () => {
  it('two engines racing for one signal: it is consumed once and the step wakes once', async () => {
    const runId = await start();
    const wait = await beginWait(runId);
    const sent = await sendSignal(db, { runId, name: 'approval', payload: { n: 1 } });
    const a = await claimRun('engine-a', runId);
    // engine A stalls: its lease expires and engine B takes the item too
    await sql`update outbox set due_at = now() - interval '1 second' where id = ${a.id}`.execute(db);
    const b = await claimRun('engine-b', runId);
    const mailboxA = await oldestSignal(db, runId, 'approval');
    const mailboxB = await oldestSignal(db, runId, 'approval');
    expect(mailboxA?.signalId).toBe(sent.signalId);
    expect(mailboxB?.signalId).toBe(sent.signalId);
    const settled = await Promise.allSettled([
      completeItems(db, [{ item: a, attempt: undefined, result: woken(wait, sent.signalId, { n: 1 }) }]),
      completeItems(db, [{ item: b, attempt: undefined, result: woken(wait, sent.signalId, { n: 1 }) }]),
    ]);
    const outcomes = settled.map((s) => (s.status === 'fulfilled' ? s.value[0] : undefined));
    expect(outcomes.filter((o) => o?.ok)).toHaveLength(1);
    const lost = outcomes.find((o) => o && !o.ok);
    expect(lost && !lost.ok ? lost.error : undefined).toBeInstanceOf(LeaseLostError);
    const row = await db
      .selectFrom('run_signals')
      .selectAll()
      .where('id', '=', sent.signalId)
      .executeTakeFirstOrThrow();
    expect(row.consumed_by).toBe('await-approval');
    const events = (await readRunEvents(db, runId, 0, 100))!.events;
    expect(events.filter((e) => e.type === 'STEP_WOKEN')).toHaveLength(1);
    const run = await db.selectFrom('workflow_runs').select('status').where('id', '=', runId).executeTakeFirstOrThrow();
    expect(run.status).toBe('COMPLETED');
  });

  it('a consumed signal is never consumed again: the writes of a second consumer are refused', async () => {
    const runId = await start();
    const wait = await beginWait(runId);
    const sent = await sendSignal(db, { runId, name: 'approval' });
    await sql`update run_signals set consumed_at = now(), consumed_by = 'elsewhere' where id = ${sent.signalId}`.execute(
      db,
    );
    const item = await claimRun('engine-a', runId);
    await expect(completeItem(db, item, undefined, woken(wait, sent.signalId, null))).rejects.toThrow(
      /failed its guard/,
    );
    const step = await db
      .selectFrom('run_steps')
      .select(['status', 'wait_for'])
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(step).toEqual({ status: 'RUNNING', wait_for: 'signal' });
  });
});
