import {
  canTransitionCompensation,
  canTransitionRun,
  canTransitionStep,
  planCancel,
  planRetry,
  rowWrites,
  type AttemptRecord,
  type AttemptResult,
  type RunState,
} from '@sagaflow/saga';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cancelRun,
  claimOutboxBatch,
  completeItem,
  completeItems,
  ConflictError,
  continueWith,
  registerDefinition,
  retryStep,
  startRun,
  type ClaimedItem,
  type CompletionOutcome,
  type Db,
} from '../src/index.js';
import { lockRunState } from '../src/queries/run-state.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { definitionOf } from './support/definitions.js';

/**
 * The one writer, property-tested against Postgres: random sequences of attempt results (through the batched
 * statement or the locked path, carried on or handed back), cancels and operator retries drive a run. After each one
 * the rows are exactly the state the pure function said its writes leave (rowWrites(...).after), the run's outbox
 * holds what its outbox writes predict, its history has exactly the events they append (seq without gaps, replaying to
 * the run's status), and every run, step and compensation move between two committed states is one
 * the state machine allows.
 */

const SAGA = definitionOf({
  name: 'prop',
  version: '1.0.0',
  steps: [
    {
      id: 's0',
      request: { method: 'POST', url: 'http://127.0.0.1:9/s0' },
      compensation: { id: 'undo-s0', request: { method: 'POST', url: 'http://127.0.0.1:9/undo-s0' } },
    },
    { id: 's1', request: { method: 'POST', url: 'http://127.0.0.1:9/s1' } },
    {
      id: 's2',
      request: { method: 'POST', url: 'http://127.0.0.1:9/s2' },
      compensation: { id: 'undo-s2', request: { method: 'POST', url: 'http://127.0.0.1:9/undo-s2' } },
    },
    {
      id: 's3',
      request: { method: 'POST', url: 'http://127.0.0.1:9/s3' },
      compensation: { id: 'undo-s3', request: { method: 'POST', url: 'http://127.0.0.1:9/undo-s3' } },
    },
  ],
});

type Command =
  | { type: 'attempt'; result: 'SUCCEEDED' | 'RETRYABLE' | 'FAILED' | 'PARK'; carry: boolean; locked: boolean }
  | { type: 'cancel' }
  | { type: 'retry'; step: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant('attempt' as const),
      result: fc.constantFrom('SUCCEEDED', 'SUCCEEDED', 'RETRYABLE', 'FAILED', 'PARK'),
      carry: fc.boolean(),
      locked: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('cancel' as const) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('retry' as const), step: fc.integer({ min: 0, max: 3 }) }) },
);

const OWNER = 'prop-engine';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await registerDefinition(db, SAGA);
});
afterAll(async () => {
  await database?.drop();
});

async function stateOf(runId: string): Promise<RunState> {
  const state = await db.transaction().execute((trx) => lockRunState(trx, runId));
  if (!state) throw new Error(`run ${runId} not found`);
  return state;
}

interface OutboxRow {
  step: number;
  kind: string;
  status: string;
  token: string | null;
}

async function outboxOf(runId: string): Promise<OutboxRow[]> {
  const rows = await db
    .selectFrom('outbox')
    .select(['step_index', 'kind', 'status', 'lease_token'])
    .where('run_id', '=', runId)
    .execute();
  return sortRows(rows.map((r) => ({ step: r.step_index, kind: r.kind, status: r.status, token: r.lease_token })));
}

const sortRows = (rows: OutboxRow[]): OutboxRow[] =>
  [...rows].sort((a, b) => `${a.status}${a.step}${a.kind}`.localeCompare(`${b.status}${b.step}${b.kind}`));

/**
 * The run's history: seq 1..event_seq without a gap, RUN_CREATED first, and the status changes replay to the run's
 * status (each from the previous one's to).
 */
async function expectHistory(runId: string, state: RunState): Promise<void> {
  const events = await db.selectFrom('run_events').selectAll().where('run_id', '=', runId).orderBy('seq').execute();
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(state.eventSeq).toBe(events.length);
  expect(events[0]?.type).toBe('RUN_CREATED');
  let status = 'PENDING';
  for (const e of events.filter((x) => x.type === 'RUN_STATUS_CHANGED')) {
    expect(e.data['from']).toBe(status);
    status = String(e.data['to']);
  }
  expect(status).toBe(state.status);
}

/** Every move between two committed states is allowed by the state machine. */
function expectAllowedMoves(before: RunState, after: RunState): void {
  expect(canTransitionRun(before.status, after.status), `run ${before.status} -> ${after.status}`).toBe(true);
  before.steps.forEach((s, i) => {
    const a = after.steps[i]!;
    expect(canTransitionStep(s.status, a.status), `step ${i} ${s.status} -> ${a.status}`).toBe(true);
    expect(
      canTransitionCompensation(s.compensationStatus, a.compensationStatus),
      `compensation ${i} ${s.compensationStatus} -> ${a.compensationStatus}`,
    ).toBe(true);
  });
}

function resultOf(kind: Command & { type: 'attempt' }, now: number): AttemptResult {
  const error = { code: 'HTTP_ERROR', message: 'answered 5xx' };
  if (kind.result === 'SUCCEEDED') return { outcome: 'SUCCEEDED', output: { at: now } };
  // due already: the next claim takes it again
  if (kind.result === 'RETRYABLE') return { outcome: 'RETRYABLE', retryAt: new Date(now - 1_000), error };
  if (kind.result === 'PARK')
    return { outcome: 'FAILED', park: true, error: { code: 'DELIVERY_EXHAUSTED', message: 'm' } };
  return { outcome: 'FAILED', error: { code: 'STEP_FAILED', message: 'answered 422' } };
}

function attemptOf(item: ClaimedItem, result: AttemptResult): AttemptRecord | undefined {
  if (result.outcome === 'WAITING') throw new Error('a wait records no attempt');
  if (result.outcome === 'FAILED' && result.park) return undefined;
  const at = new Date();
  return {
    attemptNo: item.attemptsMade + 1,
    outcome: result.outcome,
    httpStatus: result.outcome === 'SUCCEEDED' ? 200 : 500,
    error: result.outcome === 'SUCCEEDED' ? null : result.error,
    startedAt: at,
    finishedAt: at,
  };
}

/** The outbox the writes of `outcome` predict, from the rows before (the held item identified by its token). */
function predictOutbox(
  before: OutboxRow[],
  heldToken: string,
  outcome: CompletionOutcome,
  writes: ReturnType<typeof rowWrites>,
): OutboxRow[] {
  let rows = [...before];
  for (const o of writes.outbox) {
    if (o.op === 'delete') rows = rows.filter((r) => r.token !== heldToken);
    else if (o.op === 'deleteParked') rows = rows.filter((r) => r.status !== 'DEAD');
    else if (o.op === 'insert') rows.push({ step: o.stepIndex, kind: o.kind, status: 'READY', token: null });
    else if (o.op === 'hold' || o.op === 'release')
      continue; // completions never pause or resume
    else
      rows = rows.map((r) =>
        r.token === heldToken
          ? { step: o.stepIndex, kind: o.kind, status: o.status, token: outcome.carried?.leaseToken ?? null }
          : r,
      );
  }
  return sortRows(rows);
}

async function runCommands(commands: Command[]): Promise<void> {
  const { runId } = await startRun(db, { workflowName: 'prop', input: {}, correlationId: 'prop' });
  let held: ClaimedItem | undefined;
  try {
    for (const c of commands) {
      const before = await stateOf(runId);
      const outboxBefore = await outboxOf(runId);
      if (c.type === 'attempt') {
        let item = held;
        const claimedNow = !item;
        if (!item) {
          // only this run has due items: each run's leftovers are removed when its commands are done
          const claimed = await claimOutboxBatch(db, OWNER, 1, 60_000);
          item = claimed[0];
          if (!item) continue;
          expect(item.runId).toBe(runId);
        }
        held = undefined;
        const current = await stateOf(runId);
        // a claim's state is the rows (its own start included), unless it says it may be stale; a carried item's is
        // the previous completion's after (checked there), which a cancel since may have outdated: the guard sees that
        if (claimedNow && !item.stateStale) expect(item.state).toEqual(current);
        const outboxHeld = await outboxOf(runId);
        const result = resultOf(c, Date.now());
        const attempt = attemptOf(item, result);
        const carryOver = c.carry ? { owner: OWNER, leaseMs: 60_000 } : undefined;
        const outcome = c.locked
          ? await completeItem(db, item, attempt, result, carryOver ? { carryOver } : {})
          : await (async () => {
              const [settlement] = await completeItems(db, [{ item: item!, attempt, result, carryOver }]);
              if (!settlement?.ok) throw settlement?.error;
              return settlement.value;
            })();
        const after = await stateOf(runId);
        expect(outcome.before).toEqual(current);
        expect(after).toEqual(outcome.after);
        expectAllowedMoves(current, after);
        // the outbox: recompute the writes from the same state and plan (deterministic but for the carried token)
        const writes = rowWrites(current, outcome.plan, {
          item,
          attempt,
          carry: carryOver && outcome.carried ? { ...carryOver, leaseToken: outcome.carried.leaseToken } : undefined,
        });
        expect(writes.after).toEqual(after);
        // the events this write appended are the ones rowWrites said, at the seqs it said
        const appended = await db
          .selectFrom('run_events')
          .select(['seq', 'type', 'step_id', 'attempt'])
          .where('run_id', '=', runId)
          .where('seq', '>', current.eventSeq)
          .orderBy('seq')
          .execute();
        expect(appended).toEqual(
          writes.events.map((e) => ({ seq: e.seq, type: e.type, step_id: e.stepId, attempt: e.attempt })),
        );
        expect(await outboxOf(runId)).toEqual(predictOutbox(outboxHeld, item.leaseToken, outcome, writes));
        await expectHistory(runId, after);
        held = continueWith(item, result, outcome);
      } else if (c.type === 'cancel') {
        const live = outboxBefore.find((r) => r.status === 'READY');
        const decision = planCancel(
          before,
          live ? { stepIndex: live.step, kind: live.kind as never, leased: live.token !== null } : undefined,
        );
        const done = await cancelRun(db, runId).catch((e: unknown) => e);
        const after = await stateOf(runId);
        if (!decision.ok) {
          expect(done).toBeInstanceOf(ConflictError);
          expect(after).toEqual(before);
          continue;
        }
        expect(after).toEqual(rowWrites(before, decision.plan).after);
        expectAllowedMoves(before, after);
        await expectHistory(runId, after);
      } else {
        const decision = planRetry(before, c.step);
        const done = await retryStep(db, runId, `s${c.step}`).catch((e: unknown) => e);
        const after = await stateOf(runId);
        if (!decision.ok) {
          expect(done).toBeInstanceOf(ConflictError);
          expect(after).toEqual(before);
          continue;
        }
        const operator = { action: 'retry-step', reason: null, operationId: null };
        expect(after).toEqual(rowWrites(before, decision.plan, { operator }).after);
        expectAllowedMoves(before, after);
        expect((await outboxOf(runId)).filter((r) => r.status === 'DEAD')).toEqual([]);
        await expectHistory(runId, after);
      }
    }
  } finally {
    await db.deleteFrom('outbox').where('run_id', '=', runId).execute();
  }
}

describe('the one writer (property)', () => {
  it('leaves exactly the rows rowWrites predicts, through moves the state machine allows', async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 14 }), runCommands), {
      numRuns: 30,
      ...(process.env.FAST_CHECK_SEED ? { seed: Number(process.env.FAST_CHECK_SEED) } : {}),
      // found by the property once: a cancel while the carried item is held, then that item's completion
      examples: [
        [
          [
            { type: 'attempt', result: 'SUCCEEDED', carry: true, locked: false },
            { type: 'cancel' },
            { type: 'attempt', result: 'SUCCEEDED', carry: false, locked: false },
          ],
        ],
        // found by the property in CI (2026-12-04): cancel after an operator retry of a failed step used to plan that
        // step SKIPPED with attempts > 0, which the run_steps CHECK refused (the cancel failed); it now stays FAILED
        [
          [
            { type: 'attempt', result: 'FAILED', carry: false, locked: false },
            { type: 'retry', step: 0 },
            { type: 'cancel' },
            { type: 'attempt', result: 'SUCCEEDED', carry: false, locked: false },
          ],
        ],
      ],
    });
  });
});
