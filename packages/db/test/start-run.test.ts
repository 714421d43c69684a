import type { WorkflowDefinition } from '@sagaflow/definitions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import {
  ConflictError,
  DefinitionCatalog,
  NotFoundError,
  registerDefinition,
  startRun,
  startRuns,
  type Db,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { definitionOf } from './support/definitions.js';

/**
 * startRun reads definitions through a per-process catalog. Another API instance (here: another catalog on the same
 * database) may register a newer version at any time; a start without `version` must still get the highest one.
 */

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(async () => {
  await database?.drop();
});

function definition(name: string, version: string, stepIds: string[]): WorkflowDefinition {
  const doc = {
    name,
    version,
    steps: stepIds.map((id) => ({ id, request: { method: 'POST', url: `http://127.0.0.1:9/${id}` } })),
  };
  return definitionOf(doc);
}

async function runOf(runId: string): Promise<{ version: string; steps: string[] }> {
  const run = await db
    .selectFrom('workflow_runs')
    .select('workflow_version')
    .where('id', '=', runId)
    .executeTakeFirstOrThrow();
  const steps = await db
    .selectFrom('run_steps')
    .select('step_id')
    .where('run_id', '=', runId)
    .orderBy('step_index')
    .execute();
  return { version: run.workflow_version, steps: steps.map((s) => s.step_id) };
}

describe('startRun with a definition catalog', () => {
  it('starts the highest version, also one registered elsewhere after this process cached the name', async () => {
    const catalog = new DefinitionCatalog(db);
    await registerDefinition(db, definition('cat-a', '1.2.0', ['one']));
    const first = await startRun(db, { workflowName: 'cat-a', input: {}, correlationId: 'c1' }, catalog);
    expect(await runOf(first.runId)).toEqual({ version: '1.2.0', steps: ['one'] });

    // another instance registers 1.10.0: this catalog still holds only 1.2.0
    await registerDefinition(db, definition('cat-a', '1.10.0', ['one', 'two']));
    const second = await startRun(db, { workflowName: 'cat-a', input: {}, correlationId: 'c2' }, catalog);
    expect(await runOf(second.runId)).toEqual({ version: '1.10.0', steps: ['one', 'two'] });
    // nothing was inserted by the refused attempt
    expect(
      await db.selectFrom('workflow_runs').select('id').where('workflow_name', '=', 'cat-a').execute(),
    ).toHaveLength(2);
  });

  it('finds an explicit version and a whole name registered after a miss', async () => {
    const catalog = new DefinitionCatalog(db);
    await expect(
      startRun(db, { workflowName: 'cat-b', input: {}, correlationId: 'c' }, catalog),
    ).rejects.toBeInstanceOf(NotFoundError);
    await registerDefinition(db, definition('cat-b', '1.0.0', ['x']));
    const started = await startRun(db, { workflowName: 'cat-b', input: {}, correlationId: 'c' }, catalog);
    expect((await runOf(started.runId)).version).toBe('1.0.0');

    await registerDefinition(db, definition('cat-b', '2.0.0-beta.1', ['x', 'y']));
    const explicit = await startRun(
      db,
      { workflowName: 'cat-b', version: '2.0.0-beta.1', input: {}, correlationId: 'c' },
      catalog,
    );
    expect(await runOf(explicit.runId)).toEqual({ version: '2.0.0-beta.1', steps: ['x', 'y'] });
    await expect(
      startRun(db, { workflowName: 'cat-b', version: '3.0.0', input: {}, correlationId: 'c' }, catalog),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('replays an idempotency key from the cache without a second run', async () => {
    const catalog = new DefinitionCatalog(db);
    await registerDefinition(db, definition('cat-c', '1.0.0', ['x']));
    const args = { workflowName: 'cat-c', input: { a: 1 }, correlationId: 'c', idempotencyKey: 'k-1' };
    const first = await startRun(db, args, catalog);
    const again = await startRun(db, args, catalog);
    expect(again).toEqual({ runId: first.runId, status: 'PENDING', created: false, correlationId: 'c' });
  });
});

describe('startRuns (a batch of concurrent starts in one statement)', () => {
  it('settles each start on its own: new runs, idempotent replays and conflicts, unknown workflows, newer versions', async () => {
    const catalog = new DefinitionCatalog(db);
    await registerDefinition(db, definition('batch-a', '1.0.0', ['one']));
    await registerDefinition(db, definition('batch-b', '1.0.0', ['one']));
    // the catalog learns batch-b at 1.0.0, then another instance registers 2.0.0
    await startRun(db, { workflowName: 'batch-b', input: {}, correlationId: 'warm' }, catalog);
    await registerDefinition(db, definition('batch-b', '2.0.0', ['one', 'two']));

    const settled = await startRuns(
      db,
      [
        { workflowName: 'batch-a', input: { n: 1 }, correlationId: 'c1', idempotencyKey: 'k' },
        { workflowName: 'batch-a', input: { n: 1 }, correlationId: 'c2', idempotencyKey: 'k' },
        { workflowName: 'batch-a', input: { n: 2 }, correlationId: 'c3', idempotencyKey: 'k' },
        { workflowName: 'batch-missing', input: {}, correlationId: 'c4' },
        { workflowName: 'batch-b', input: {}, correlationId: 'c5' },
        { workflowName: 'batch-a', input: { n: 3 }, correlationId: 'c6' },
      ],
      catalog,
    );
    const [first, replay, conflict, missing, newer, plain] = settled;
    expect(first).toEqual({
      ok: true,
      value: { runId: expect.any(String), status: 'PENDING', created: true, correlationId: 'c1' },
    });
    const firstId = first?.ok ? first.value.runId : '';
    expect(replay).toEqual({
      ok: true,
      value: { runId: firstId, status: 'PENDING', created: false, correlationId: 'c1' },
    });
    expect(conflict?.ok === false && conflict.error).toBeInstanceOf(ConflictError);
    expect(missing?.ok === false && missing.error).toBeInstanceOf(NotFoundError);
    expect(newer?.ok && (await runOf(newer.value.runId))).toEqual({ version: '2.0.0', steps: ['one', 'two'] });
    expect(plain?.ok && plain.value.created).toBe(true);

    // one run per key, and the new runs of the batch were inserted by one transaction
    const runs = await sql<{ id: string; tx: string }>`
      select id, xmin::text as tx from workflow_runs where workflow_name = 'batch-a' order by created_at
    `.execute(db);
    expect(runs.rows).toHaveLength(2);
    expect(new Set(runs.rows.map((r) => r.tx)).size).toBe(1);
    const items = await sql<{
      n: number;
    }>`select count(*)::int as n from outbox where run_id = any(${runs.rows.map((r) => r.id)}::uuid[])`.execute(db);
    expect(items.rows[0]?.n).toBe(2);
  });
});
