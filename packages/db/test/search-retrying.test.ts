import type { AttemptResult } from '@sagaflow/saga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimOutboxBatch,
  completeItem,
  countRuns,
  searchRuns,
  startRun,
  type ClaimedItem,
  type Db,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { registerDefinitions } from './support/definitions.js';

/** The `retrying` search filter (the console's "retrying now" chip): a retry scheduled, not a wait, not in flight. */

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await registerDefinitions(
    db,
    {
      name: 'charge',
      version: '1.0.0',
      steps: [{ id: 'charge', request: { method: 'POST', url: 'http://127.0.0.1:9/c' } }],
    },
    { name: 'approve', version: '1.0.0', steps: [{ id: 'await', waitForSignal: { name: 'approval' } }] },
  );
});
afterAll(async () => {
  await database?.drop();
});

const start = async (workflowName: string) =>
  (await startRun(db, { workflowName, input: {}, correlationId: workflowName })).runId;

async function claimAll(): Promise<Map<string, ClaimedItem>> {
  const items = await claimOutboxBatch(db, 'engine', 100, 60_000);
  return new Map(items.map((item) => [item.runId, item]));
}

const SEARCH = { limit: 50, timeoutMs: 5_000 };

describe('retrying filter', () => {
  it('finds the runs whose next attempt is a scheduled retry, not the waiting, in-flight or pending ones', async () => {
    const retrying = await start('charge');
    const inFlight = await start('charge');
    const waiting = await start('approve');
    const claimed = await claimAll();
    const pending = await start('charge');

    const retryItem = claimed.get(retrying)!;
    const startedAt = new Date();
    const retry: AttemptResult = {
      outcome: 'RETRYABLE',
      retryAt: new Date(Date.now() + 3_600_000),
      error: { code: 'HTTP_ERROR', message: 'answered 503' },
    };
    const attempt = {
      attemptNo: 1,
      outcome: 'RETRYABLE' as const,
      httpStatus: 503,
      error: retry.error,
      startedAt,
      finishedAt: startedAt,
    };
    await completeItem(db, retryItem, attempt, retry);
    expect(claimed.has(inFlight)).toBe(true);
    const waitItem = claimed.get(waiting)!;
    await completeItem(db, waitItem, undefined, {
      outcome: 'WAITING',
      wait: { for: 'signal', until: new Date(Date.now() + 3_600_000), signal: 'approval' },
      began: true,
    });

    const page = await searchRuns(db, { retrying: true }, SEARCH);
    expect(page.items.map((run) => run.runId)).toEqual([retrying]);
    expect(await countRuns(db, { retrying: true }, SEARCH)).toMatchObject({ total: 1, byStatus: { RUNNING: 1 } });
    // combined with the other filters like any of them
    expect((await searchRuns(db, { retrying: true, workflowName: 'approve' }, SEARCH)).items).toEqual([]);
    // the pending run (started after the claim, never leased) is counted among all runs and is not retrying
    expect((await countRuns(db, {}, SEARCH)).total).toBe(4);
    expect((await searchRuns(db, { statuses: ['PENDING'] }, SEARCH)).items.map((run) => run.runId)).toEqual([pending]);
  });
});
