import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimOutboxBatchWithin, ITEM_OVERHEAD_BYTES, registerDefinition, startRun, type Db } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { definitionOf } from './support/definitions.js';

/** The claim's byte budget (ENGINE_MAX_INFLIGHT_BYTES) against a real Postgres. */

const MiB = 1024 * 1024;

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

const SAGA = definitionOf({
  name: 'one',
  version: '1.0.0',
  steps: [{ id: 's0', request: { method: 'POST', url: 'http://127.0.0.1:9/s0' } }],
});

const TWO_STEPS = definitionOf({
  name: 'two',
  version: '1.0.0',
  steps: [
    { id: 's0', request: { method: 'POST', url: 'http://127.0.0.1:9/s0' } },
    { id: 's1', request: { method: 'POST', url: 'http://127.0.0.1:9/s1' } },
  ],
});

/** Starts runs in order (their items become due in that order); a run with `bytes` carries that much input. */
async function startRuns(sizes: number[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, bytes] of sizes.entries()) {
    // one letter repeated: TOAST compresses it to a few KiB, so only a measure of the real size sees it as large
    const input = bytes > 0 ? { i, blob: 'a'.repeat(bytes) } : { i };
    ids.push((await startRun(db, { workflowName: 'one', input, correlationId: `c-${i}` })).runId);
  }
  return ids;
}

describe('claimOutboxBatchWithin: a byte budget', () => {
  it('measures payloads by their real size, not their compressed stored size', async () => {
    const [runId] = await startRuns([MiB]);
    const stored = await sql<{
      size: number;
    }>`select pg_column_size(input) as size from workflow_runs where id = ${runId}`
      .execute(db)
      .then((r) => r.rows[0]!.size);
    expect(stored).toBeLessThan(64 * 1024);

    const { items } = await claimOutboxBatchWithin(db, 'engine-a', 10, 60_000, 64 * MiB);
    expect(items).toHaveLength(1);
    expect(items[0]!.payloadBytes).toBeGreaterThan(MiB);
    expect(items[0]!.payloadBytes).toBeLessThan(MiB + ITEM_OVERHEAD_BYTES + 1024);
  });

  it('takes due items in order while the bytes before stay under the budget, leaving the rest due', async () => {
    const ids = await startRuns([MiB, MiB, MiB, MiB, MiB, 0, 0, 0]);

    const first = await claimOutboxBatchWithin(db, 'engine-a', 10, 60_000, 2.5 * MiB);
    expect(first.items.map((i) => i.runId)).toEqual(ids.slice(0, 3));
    expect(first.leftOut).toBe(5);

    // two large, then the small ones fit in what is left
    const second = await claimOutboxBatchWithin(db, 'engine-a', 10, 60_000, 2.5 * MiB);
    expect(second.items.map((i) => i.runId)).toEqual(ids.slice(3));
    expect(second.leftOut).toBe(0);

    // the items left out were not touched: one delivery each, leased once
    const rows = await db.selectFrom('outbox').select(['deliveries']).execute();
    expect(rows.map((r) => r.deliveries)).toEqual(Array(8).fill(1));
  });

  it('small items fill the batch as before', async () => {
    await startRuns([0, 0, 0, 0]);
    const { items, leftOut } = await claimOutboxBatchWithin(db, 'engine-a', 10, 60_000, 64 * 1024);
    expect(items).toHaveLength(4);
    expect(leftOut).toBe(0);
    expect(
      items.every((i) => i.payloadBytes >= ITEM_OVERHEAD_BYTES && i.payloadBytes < ITEM_OVERHEAD_BYTES + 200),
    ).toBe(true);
  });

  it('an item larger than the whole budget is still claimed, alone', async () => {
    const ids = await startRuns([3 * MiB, 0]);
    const { items, leftOut } = await claimOutboxBatchWithin(db, 'engine-a', 10, 60_000, MiB);
    expect(items.map((i) => i.runId)).toEqual([ids[0]]);
    expect(leftOut).toBe(1);
  });

  it('counts the outputs of the run\u2019s succeeded steps', async () => {
    await registerDefinition(db, TWO_STEPS);
    const { runId } = await startRun(db, { workflowName: 'two', input: {}, correlationId: 'c-two' });
    // as if s0 had succeeded with a large output and s1 were due
    await sql`update run_steps set status = 'SUCCEEDED', started_at = now(), finished_at = now(), output = ${JSON.stringify({ big: 'b'.repeat(MiB) })}::jsonb
               where run_id = ${runId} and step_index = 0`.execute(db);
    await sql`update outbox set step_index = 1 where run_id = ${runId}`.execute(db);
    const { items } = await claimOutboxBatchWithin(db, 'engine-a', 10, 60_000, 64 * MiB);
    expect(items[0]!.payloadBytes).toBeGreaterThan(MiB);
  });
});
