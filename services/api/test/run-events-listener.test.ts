import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildTestApp, json, makeDefinition, registerDefinition, startRun } from './helpers.js';

/**
 * The history listener's row (docs/architecture.md#history-notifications-only-when-someone-waits): an API instance
 * keeps a fresh event_listeners row while requests wait for run history, so the statements that append history
 * NOTIFY it, and deletes the row and stops listening once nobody has waited for a while.
 */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
const definition = makeDefinition();

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db, { runEventsHub: { ttlMs: 1_000, refreshMs: 100, idleMs: 400 } });
  await registerDefinition(app, definition);
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

async function listenerRows(): Promise<Array<{ id: string; fresh: boolean }>> {
  const { rows } = await sql<{ id: string; fresh: boolean }>`
    select id, expires_at > now() as fresh from event_listeners`.execute(testDb.db);
  return rows;
}

async function listeningBackends(): Promise<number> {
  const { rows: active } = await sql<{ n: number }>`
    select count(*)::int as n from pg_stat_activity
     where datname = current_database() and query ilike 'LISTEN sagaflow_run_events%'`.execute(testDb.db);
  return active[0]!.n;
}

describe('the API instance as a history listener', () => {
  it('keeps a fresh row while a long poll waits, woken at commit; drops the row and the LISTEN once idle', async () => {
    expect(await listenerRows()).toEqual([]);
    const { runId } = json<{ runId: string }>(await startRun(app, definition.name));
    const started = Date.now();
    const waiting = app.inject({ method: 'GET', url: `/v1/runs/${runId}/events?after=1&waitMs=20000` });
    await expect.poll(listenerRows).toEqual([{ id: expect.any(String), fresh: true }]);
    const [row] = await listenerRows();
    // refreshed past its 1 s time to live while the request waits
    await expect
      .poll(
        async () => {
          const { rows } = await sql<{ left: number }>`
          select (extract(epoch from expires_at - now()) * 1000)::float8 as left from event_listeners`.execute(
            testDb.db,
          );
          return rows.length === 1 && Date.now() - started > 1_500 ? rows[0]!.left : 0;
        },
        { timeout: 5_000 },
      )
      .toBeGreaterThan(500);
    expect((await listenerRows())[0]!.id).toBe(row!.id);
    await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` });
    const page = json<{ events: Array<{ type: string }> }>(await waiting);
    expect(page.events.map((e) => e.type)).toEqual(['CANCEL_REQUESTED', 'RUN_STATUS_CHANGED']);
    expect(Date.now() - started).toBeLessThan(15_000);
    // nobody waits now: after idleMs the row is deleted and the connection stops listening
    await expect.poll(listenerRows, { timeout: 5_000 }).toEqual([]);
    await expect.poll(listeningBackends, { timeout: 5_000 }).toBe(0);
  });

  it('a wait after the idle close listens again under a new row', async () => {
    const { runId } = json<{ runId: string }>(await startRun(app, definition.name));
    const first = json<{ events: unknown[] }>(
      await app.inject({ method: 'GET', url: `/v1/runs/${runId}/events?after=1&waitMs=300` }),
    );
    expect(first.events).toEqual([]);
    await expect.poll(listenerRows, { timeout: 5_000 }).toEqual([]);
    const waiting = app.inject({ method: 'GET', url: `/v1/runs/${runId}/events?after=1&waitMs=20000` });
    await expect.poll(listenerRows).toEqual([{ id: expect.any(String), fresh: true }]);
    await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` });
    const page = json<{ events: Array<{ type: string }> }>(await waiting);
    expect(page.events.map((e) => e.type)).toEqual(['CANCEL_REQUESTED', 'RUN_STATUS_CHANGED']);
  });
});
