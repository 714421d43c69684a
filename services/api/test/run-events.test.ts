import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createPool, type Db } from '@sagaflow/db';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildTestApp, historyListeners, json, makeDefinition, registerDefinition, startRun } from './helpers.js';

/** GET /v1/runs/{runId}/events: pages of a run's history and the long poll, across two API instances. */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
/** a second API instance with its own pool: it learns of new events only through Postgres */
let other: FastifyInstance;
let otherDb: Db;
const definition = makeDefinition();

interface Page {
  runId: string;
  events: Array<{ seq: number; type: string; at: string; data: Record<string, unknown> }>;
  nextAfter: number;
  terminal: boolean;
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db);
  otherDb = createDb(createPool(testDb.url, { max: 3 }));
  other = buildTestApp(otherDb);
  await registerDefinition(app, definition);
});

afterAll(async () => {
  await other?.close();
  await otherDb?.destroy();
  await app?.close();
  await testDb?.drop();
});

async function newRun(): Promise<string> {
  return json<{ runId: string }>(await startRun(app, definition.name)).runId;
}

const events = (on: FastifyInstance, runId: string, query = '') =>
  on.inject({ method: 'GET', url: `/v1/runs/${runId}/events${query}` });

describe('GET /v1/runs/{runId}/events', () => {
  it('pages the history from `after`, `limit` at a time', async () => {
    const runId = await newRun();
    await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` });
    const all = json<Page>(await events(app, runId));
    expect(all.events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'RUN_CREATED'],
      [2, 'CANCEL_REQUESTED'],
      [3, 'RUN_STATUS_CHANGED'],
    ]);
    expect(all).toMatchObject({ runId, nextAfter: 3, terminal: true });
    expect(all.events[2]!.data).toEqual({
      from: 'PENDING',
      to: 'CANCELLED',
      error: { code: 'CANCELLED', message: 'run cancelled by request' },
    });
    const page = json<Page>(await events(app, runId, '?after=1&limit=1'));
    expect(page.events.map((e) => e.seq)).toEqual([2]);
    expect(page.nextAfter).toBe(2);
    const none = json<Page>(await events(app, runId, '?after=3'));
    expect(none).toEqual({ runId, events: [], nextAfter: 3, terminal: true });
  });

  it('a terminal run with nothing newer answers at once, whatever waitMs says', async () => {
    const runId = await newRun();
    await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` });
    const started = Date.now();
    const page = json<Page>(await events(app, runId, '?after=3&waitMs=20000'));
    expect(page).toMatchObject({ events: [], terminal: true });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('long poll: answers as soon as an event commits, woken through Postgres on another instance', async () => {
    const runId = await newRun();
    const started = Date.now();
    const waiting = events(other, runId, '?after=1&waitMs=25000');
    // the other instance LISTENs once a request waits (its waiter subscribed before it read)
    await expect.poll(() => historyListeners(testDb.db)).toBeGreaterThan(0);
    await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` });
    const page = json<Page>(await waiting);
    expect(page.events.map((e) => e.type)).toEqual(['CANCEL_REQUESTED', 'RUN_STATUS_CHANGED']);
    expect(page.terminal).toBe(true);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('with nothing new, answers empty after waitMs', async () => {
    const runId = await newRun();
    const started = Date.now();
    const page = json<Page>(await events(app, runId, '?after=1&waitMs=400'));
    expect(page).toEqual({ runId, events: [], nextAfter: 1, terminal: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('404 for an unknown run; 400 for bad query values', async () => {
    const unknown = await events(app, randomUUID());
    expect(unknown.statusCode).toBe(404);
    expect(json<{ code: string }>(unknown).code).toBe('NOT_FOUND');
    const runId = await newRun();
    for (const query of ['?after=-1', '?limit=0', '?limit=1001', '?waitMs=30001', '?after=x']) {
      const bad = await events(app, runId, query);
      expect(bad.statusCode, query).toBe(400);
      expect(json<{ code: string; message: string }>(bad)).toMatchObject({ code: expect.any(String) });
    }
  });
});
