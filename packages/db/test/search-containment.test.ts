import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchRuns, startRun, type Db, type RunSearchFilter } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { registerDefinitions } from './support/definitions.js';

/**
 * Containment searches (`input` / `context`) read the newest runs in order first and ask the GIN index for the older
 * ones only when those are too few (search-runs.ts, CONTAINMENT_WINDOW). Whatever the window, the pages must be the
 * same: complete, newest first, no run twice — checked here with windows small enough that every walk crosses into
 * the second part.
 */

const RUNS = 40;
let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await registerDefinitions(db, {
    name: 'contain',
    version: '1.0.0',
    steps: [{ id: 'a', request: { method: 'POST', url: 'http://127.0.0.1:9/a' } }],
  });
  // one run in three is a "gold" customer's; every fifth run is tenant t-1's
  for (let i = 0; i < RUNS; i++) {
    await startRun(db, {
      workflowName: 'contain',
      input: { seq: i, customer: i % 3 === 0 ? 'gold' : 'other' },
      context: { tenantId: i % 5 === 0 ? 't-1' : 't-2' },
      correlationId: `c-${i}`,
    });
  }
});
afterAll(async () => {
  await database?.drop();
});

/** The expected ids, straight from the table: every match, newest first. */
async function expected(where: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`select id from workflow_runs where ${sql.raw(where)}
    order by created_at desc, id desc`.execute(db);
  return rows.map((r) => r.id);
}

async function walk(filter: RunSearchFilter, limit: number, containmentWindow?: number): Promise<string[]> {
  const ids: string[] = [];
  let after;
  for (let pages = 0; pages < 100; pages++) {
    const page = await searchRuns(db, filter, { limit, after, timeoutMs: 5_000, containmentWindow });
    ids.push(...page.items.map((run) => run.runId));
    if (!page.next) return ids;
    after = page.next;
  }
  throw new Error('more than 100 pages');
}

describe('containment search', () => {
  it.each([
    ['input, window 1, pages of 1', { input: { customer: 'gold' } }, `input @> '{"customer":"gold"}'`, 1, 1],
    ['input, window 5, pages of 4', { input: { customer: 'gold' } }, `input @> '{"customer":"gold"}'`, 4, 5],
    ['input, window 7, pages of 3', { input: { customer: 'other' } }, `input @> '{"customer":"other"}'`, 3, 7],
    ['context, window 3, pages of 2', { context: { tenantId: 't-1' } }, `context @> '{"tenantId":"t-1"}'`, 2, 3],
    [
      'input, default window, pages of 5',
      { input: { customer: 'gold' } },
      `input @> '{"customer":"gold"}'`,
      5,
      undefined,
    ],
    ['input, no match', { input: { customer: 'none' } }, `input @> '{"customer":"none"}'`, 5, 4],
  ] as const)('%s: every match once, newest first', async (_name, filter, where, limit, window) => {
    const want = await expected(where);
    expect(await walk(filter, limit, window)).toEqual(want);
  });

  it('combines with the other filters and with a cursor', async () => {
    const want = await expected(`input @> '{"customer":"gold"}' and context @> '{"tenantId":"t-1"}'`);
    expect(want.length).toBeGreaterThan(1);
    expect(await walk({ input: { customer: 'gold' }, context: { tenantId: 't-1' } }, 1, 2)).toEqual(want);
  });
});
