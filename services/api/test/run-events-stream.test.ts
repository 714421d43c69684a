import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createPool } from '@sagaflow/db';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildTestApp, json, makeDefinition, registerDefinition, startRun } from './helpers.js';

/** GET /v1/runs/{runId}/events/stream over a real socket: replay, live events, ping, end. */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;
let base: string;
const definition = makeDefinition();

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db, { streamPingMs: 200 });
  await registerDefinition(app, definition);
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

async function newRun(): Promise<string> {
  return json<{ runId: string }>(await startRun(app, definition.name)).runId;
}

/** Reads a stream's text until `done(text)` holds (or the stream ends); bounded by the test timeout. */
async function readUntil(
  response: Response,
  done: (text: string) => boolean,
): Promise<{ text: string; ended: boolean }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) return { text, ended: true };
    text += decoder.decode(value, { stream: true });
    if (done(text)) {
      await reader.cancel();
      return { text, ended: false };
    }
  }
}

function frames(text: string): Array<{ id?: string; event?: string; data?: string; comment?: string }> {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const frame: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) frame['comment'] = line.slice(1).trim();
        else {
          const at = line.indexOf(': ');
          frame[line.slice(0, at)] = line.slice(at + 2);
        }
      }
      return frame;
    });
}

describe('GET /v1/runs/{runId}/events/stream', () => {
  it('replays the history, goes live, pings while quiet, and ends after the terminal event', async () => {
    const runId = await newRun();
    const response = await fetch(`${base}/v1/runs/${runId}/events/stream`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (done: (t: string) => boolean) => {
      while (!done(text)) {
        const { value, done: ended } = await reader.read();
        if (ended) return true;
        text += decoder.decode(value, { stream: true });
      }
      return false;
    };
    await until((t) => t.includes('event: RUN_CREATED'));
    await until((t) => t.includes(': ping'));
    await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` });
    const ended = await until((t) => t.includes('event: end'));
    expect(ended).toBe(false);
    expect((await reader.read()).done).toBe(true);
    const events = frames(text).filter((f) => f.event);
    expect(events.map((f) => [f.id, f.event])).toEqual([
      ['1', 'RUN_CREATED'],
      ['2', 'CANCEL_REQUESTED'],
      ['3', 'RUN_STATUS_CHANGED'],
      [undefined, 'end'],
    ]);
    expect(JSON.parse(events[2]!.data!)).toMatchObject({
      seq: 3,
      type: 'RUN_STATUS_CHANGED',
      data: { to: 'CANCELLED' },
    });
    expect(events[3]!.data).toBe('{}');
  });

  it('starts after Last-Event-ID (or `after`): a reconnecting client gets only what it missed', async () => {
    const runId = await newRun();
    await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel` });
    const resumed = await fetch(`${base}/v1/runs/${runId}/events/stream`, { headers: { 'last-event-id': '2' } });
    const { text, ended } = await readUntil(resumed, () => false);
    expect(ended).toBe(true);
    expect(frames(text).map((f) => f.event)).toEqual(['RUN_STATUS_CHANGED', 'end']);
    const viaQuery = await fetch(`${base}/v1/runs/${runId}/events/stream?after=3`);
    expect(frames((await readUntil(viaQuery, () => false)).text).map((f) => f.event)).toEqual(['end']);
  });

  it('404 for an unknown run and 400 for a bad run id or cursor, before any stream', async () => {
    const unknown = await fetch(`${base}/v1/runs/${randomUUID()}/events/stream`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await fetch(`${base}/v1/runs/not-a-uuid/events/stream`)).status).toBe(400);
    const runId = await newRun();
    const bad = await fetch(`${base}/v1/runs/${runId}/events/stream`, { headers: { 'last-event-id': 'x' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('503 SERVICE_UNAVAILABLE (not 500) when the database cannot be reached before the stream starts', async () => {
    // nothing listens on port 1: every read fails to connect, as with an exhausted pool or a restarting database
    const pool = createPool('postgres://postgres@127.0.0.1:1/none', { connectionTimeoutMillis: 500 });
    const offline = buildTestApp(createDb(pool));
    try {
      const response = await offline.inject({ method: 'GET', url: `/v1/runs/${randomUUID()}/events/stream` });
      expect(response.statusCode).toBe(503);
      expect(json(response)).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    } finally {
      await offline.close();
      await pool.end();
    }
  });
});
