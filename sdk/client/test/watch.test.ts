import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SagaFlowError, createClient, type RunEvent } from '../src/index.js';

/** runs.events and runs.watch against a loopback server standing in for the API (real HTTP, real SSE). */

const RUN_ID = '5b0e2a34-8f4c-4b8e-9d7a-3c1f2e4d5a6b';
let server: Server;
let baseUrl: string;
const streamCalls: Array<string | undefined> = [];
const eventCalls: string[] = [];

function event(seq: number, type: string): RunEvent {
  return {
    seq,
    at: new Date(0).toISOString(),
    type: type as RunEvent['type'],
    stepId: null,
    kind: null,
    attempt: null,
    data: {},
  };
}
const frame = (e: RunEvent) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === `/v1/runs/${RUN_ID}/events/stream`) {
    const last = req.headers['last-event-id'] as string | undefined;
    streamCalls.push(last);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (streamCalls.length === 1) {
      // two events, then the connection drops mid-stream (no `end`)
      res.write(frame(event(1, 'RUN_CREATED')) + ': ping\n\n' + frame(event(2, 'RUN_STATUS_CHANGED')));
      setImmediate(() => res.socket?.destroy());
      return;
    }
    res.end(frame(event(Number(last) + 1, 'RUN_STATUS_CHANGED')) + 'event: end\ndata: {}\n\n');
  } else if (url.pathname === `/v1/runs/${RUN_ID}/events`) {
    eventCalls.push(url.search);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ runId: RUN_ID, events: [event(3, 'ATTEMPT_FINISHED')], nextAfter: 3, terminal: false }));
  } else {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'NOT_FOUND', message: 'run not found' }));
  }
}

beforeAll(async () => {
  server = createServer(handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('runs.events', () => {
  it('sends after, limit and waitMs as query parameters and returns the page', async () => {
    const client = createClient({ baseUrl });
    const page = await client.runs.events(RUN_ID, { after: 2, limit: 10, waitMs: 5000 });
    expect(page).toMatchObject({ runId: RUN_ID, nextAfter: 3, terminal: false });
    expect(page.events.map((e) => e.seq)).toEqual([3]);
    expect(eventCalls.at(-1)).toBe('?after=2&limit=10&waitMs=5000');
  });
});

describe('runs.watch', () => {
  it('iterates the stream and resumes after a dropped connection from the last event it read', async () => {
    const client = createClient({ baseUrl });
    const seen: number[] = [];
    for await (const e of client.runs.watch(RUN_ID, { reconnectDelayMs: 10 })) seen.push(e.seq);
    expect(seen).toEqual([1, 2, 3]);
    expect(streamCalls).toEqual(['0', '2']);
  });

  it('rejects with SagaFlowError for an unknown run', async () => {
    const client = createClient({ baseUrl });
    const iterate = async () => {
      for await (const _ of client.runs.watch('00000000-0000-4000-8000-000000000000')) void _;
    };
    await expect(iterate()).rejects.toBeInstanceOf(SagaFlowError);
  });
});
