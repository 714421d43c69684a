import { getEventListeners } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { waitFor } from '@sagaflow/testkit';
import { RunEventsHub } from '../src/run-events-hub.js';
import { buildTestApp, historyListeners, json, makeDefinition, registerDefinition, startRun } from './helpers.js';

/**
 * A history stream whose client goes away releases what it held on the API: its count in `run_event_streams_open`,
 * its wait (wake-up registration and timer) in `run_event_waits`, and the abort listener of each wait. The hub's one
 * LISTEN connection is shared by every wait of the process and stays open for the next one (not one per stream).
 */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
/** pings every minute: a stream that is cleaned up within seconds was cleaned up by the disconnect, not a timer */
let quiet: FastifyInstance;
/** pings every 20 ms: many waits on one stream */
let chatty: FastifyInstance;
const definition = makeDefinition();
const warnings: Error[] = [];
const onWarning = (warning: Error): void => void warnings.push(warning);

beforeAll(async () => {
  testDb = await createTestDatabase();
  quiet = buildTestApp(testDb.db, { streamPingMs: 60_000 });
  chatty = buildTestApp(testDb.db, { streamPingMs: 20 });
  await registerDefinition(quiet, definition);
  await Promise.all([quiet, chatty].map((app) => app.listen({ host: '127.0.0.1', port: 0 })));
  process.on('warning', onWarning);
});

afterAll(async () => {
  process.off('warning', onWarning);
  await quiet?.close();
  await chatty?.close();
  await testDb?.drop();
});

function baseOf(app: FastifyInstance): string {
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}`;
}

/** A run that stays PENDING (no engine here): its stream stays open, waiting. */
async function pendingRun(): Promise<string> {
  return json<{ runId: string }>(await startRun(quiet, definition.name)).runId;
}

async function gauges(app: FastifyInstance): Promise<{ streams: number; waits: number }> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { streams: read('run_event_streams_open'), waits: read('run_event_waits') };
}

const listenConnections = (): Promise<number> => historyListeners(testDb.db);

/** Opens a stream and reads until `until` appears in it; the stream stays open. */
async function openStream(app: FastifyInstance, runId: string, until: (text: string) => boolean) {
  const controller = new AbortController();
  const response = await fetch(`${baseOf(app)}/v1/runs/${runId}/events/stream`, { signal: controller.signal });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!until(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended early: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  return { text, disconnect: () => controller.abort() };
}

describe('SSE stream cleanup on client disconnect', () => {
  it('releases the stream and its wait (timer, wake-up) at once; the LISTEN connection stays one, shared', async () => {
    expect(await gauges(quiet)).toEqual({ streams: 0, waits: 0 });
    const runIds = await Promise.all([pendingRun(), pendingRun(), pendingRun()]);
    const streams = await Promise.all(
      runIds.map((runId) => openStream(quiet, runId, (t) => t.includes('event: RUN_CREATED'))),
    );
    // every stream has sent the history and waits for the next event
    await waitFor(async () => {
      const g = await gauges(quiet);
      return g.streams === 3 && g.waits === 3;
    });
    expect(await listenConnections()).toBe(1);

    for (const stream of streams) stream.disconnect();
    // far sooner than the 60 s ping that would end the waits otherwise
    await waitFor(
      async () => {
        const g = await gauges(quiet);
        return g.streams === 0 && g.waits === 0;
      },
      { timeoutMs: 5_000 },
    );
    expect(await gauges(quiet)).toEqual({ streams: 0, waits: 0 });
    expect(await listenConnections()).toBe(1);

    // the hub still works for the next stream: it gets the live events of a cancel and ends
    const runId = runIds[0]!;
    const next = await openStream(quiet, runId, (t) => t.includes('event: RUN_CREATED'));
    await quiet.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` });
    const again = await openStream(quiet, runId, (t) => t.includes('event: end'));
    expect(again.text).toContain('event: RUN_STATUS_CHANGED');
    next.disconnect();
    again.disconnect();
    await waitFor(async () => (await gauges(quiet)).streams === 0, { timeoutMs: 5_000 });
    expect(await gauges(quiet)).toEqual({ streams: 0, waits: 0 });
  });

  it('a long-lived stream adds no listener per wait (no EventTarget leak warning after many pings)', async () => {
    const runId = await pendingRun();
    const stream = await openStream(chatty, runId, (t) => (t.match(/^: ping$/gm) ?? []).length >= 20);
    stream.disconnect();
    await waitFor(
      async () => {
        const g = await gauges(chatty);
        return g.streams === 0 && g.waits === 0;
      },
      { timeoutMs: 5_000 },
    );
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
  });
});

describe('RunEventsHub.wait', () => {
  it('returns at once on a signal aborted before the wait, leaving no wake-up, timer or listener', async () => {
    const hub = new RunEventsHub(testDb.db, quiet.log);
    try {
      const runId = await pendingRun();
      const controller = new AbortController();
      controller.abort();
      const started = Date.now();
      await hub.subscribe(runId).wait(60_000, controller.signal);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(hub.stats()).toMatchObject({ streams: 0, waits: 0, waiters: 0 });

      const live = new AbortController();
      for (let i = 0; i < 15; i++) await hub.subscribe(runId).wait(1, live.signal);
      expect(getEventListeners(live.signal, 'abort')).toHaveLength(0);
      expect(hub.stats()).toMatchObject({ waits: 0, waiters: 0 });
    } finally {
      await hub.close();
    }
  });
});
