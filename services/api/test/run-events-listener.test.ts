import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { RunEventsHub, type RunEventsHubOptions } from '../src/run-events-hub.js';
import {
  buildTestApp,
  HISTORY_LISTENER,
  historyListeners,
  json,
  makeDefinition,
  registerDefinition,
  startRun,
} from './helpers.js';

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

const listeningBackends = (): Promise<number> => historyListeners(testDb.db);

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
    const first = app.inject({ method: 'GET', url: `/v1/runs/${runId}/events?after=1&waitMs=300` });
    await expect.poll(listenerRows).toEqual([{ id: expect.any(String), fresh: true }]);
    const [before] = await listenerRows();
    expect(json<{ events: unknown[] }>(await first).events).toEqual([]);
    await expect.poll(listenerRows, { timeout: 5_000 }).toEqual([]);
    const waiting = app.inject({ method: 'GET', url: `/v1/runs/${runId}/events?after=1&waitMs=20000` });
    await expect.poll(listenerRows).toEqual([{ id: expect.any(String), fresh: true }]);
    expect((await listenerRows())[0]!.id).not.toBe(before!.id);
    await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` });
    const page = json<{ events: Array<{ type: string }> }>(await waiting);
    expect(page.events.map((e) => e.type)).toEqual(['CANCEL_REQUESTED', 'RUN_STATUS_CHANGED']);
  });
});

describe('RunEventsHub: what a statement begun before the listener was ready writes', () => {
  const silent = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;

  /** Runs `body` with a hub of its own on the test database, closed afterwards. */
  async function withHub(options: RunEventsHubOptions, body: (hub: RunEventsHub) => Promise<void>): Promise<void> {
    const hub = new RunEventsHub(testDb.db, silent, options);
    try {
      await body(hub);
    } finally {
      await hub.close();
    }
  }

  it('a wait whose subscription came before the listener was ready returns at once, so its caller reads again', () =>
    withHub({ idleMs: 60_000 }, async (hub) => {
      // C subscribes (and would read) while nothing listens: what commits now is announced to nobody
      const c = hub.subscribe('run-c');
      // A's wait opens the listener: A's own subscription also came before it, so A returns at once too
      let started = Date.now();
      await hub.subscribe('run-a').wait(20_000);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(hub.stats().listening).toBe(true);
      // C's wait finds a listener that is ready now but was not at C's read: C reads again instead of waiting
      started = Date.now();
      await c.wait(20_000);
      expect(Date.now() - started).toBeLessThan(5_000);
    }));

  it('for settleMs after an opening a wait ends by then; later ones wait their whole time unless woken', () =>
    withHub({ idleMs: 60_000, settleMs: 1_500 }, async (hub) => {
      await hub.subscribe('run-a').wait(20_000);
      // the listener was ready by now: its window ends at the latest 1,500 ms from here
      const windowOverBy = Date.now() + 1_500;
      expect(hub.stats().listening).toBe(true);
      // subscribed with the listener ready, inside the settle window: a statement in flight at the opening may
      // commit after this subscriber's read, unannounced, so the wait ends with the window
      let started = Date.now();
      await hub.subscribe('run-b').wait(20_000);
      expect(Date.now() - started).toBeLessThan(5_000);
      // after the window, a wait lasts its whole time (here 400 ms) when nothing is announced. The wait above ends
      // with the window by its timer, which may fire a millisecond before Date.now() reaches the window's end: a wait
      // begun then is still inside it and ends at once, as it should, so this one begins once the window is surely over
      await expect.poll(() => Date.now() >= windowOverBy, { timeout: 5_000, interval: 5 }).toBe(true);
      started = Date.now();
      await hub.subscribe('run-b').wait(400);
      expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    }));

  it('a listener whose connection is killed wakes its waiters, deletes its row and is reopened under a new one', () =>
    withHub({ idleMs: 60_000, settleMs: 0 }, async (hub) => {
      await hub.subscribe('run-a').wait(20_000);
      const row = hub.listenerRow;
      expect(row).toBeDefined();
      const waiting = hub.subscribe('run-b').wait(20_000);
      const started = Date.now();
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
                 where datname = current_database() and ${HISTORY_LISTENER}`.execute(testDb.db);
      await waiting;
      expect(Date.now() - started).toBeLessThan(5_000);
      await expect.poll(async () => (await listenerRows()).map((r) => r.id)).not.toContain(row);
      await hub.subscribe('run-c').wait(20_000);
      expect(hub.listenerRow).toBeDefined();
      expect(hub.listenerRow).not.toBe(row);
    }));
});
