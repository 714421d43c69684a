import { toSagaFlowError } from './errors.js';
import type { RunEvent } from './types.js';

export interface WatchOptions {
  /** Start after this seq (default 0: the whole history). */
  after?: number;
  /** Stop watching (the iterator returns). */
  signal?: AbortSignal;
  /** Wait before reconnecting after a dropped connection, default 1000 ms. */
  reconnectDelayMs?: number;
  /** Give up after this many reconnects in a row without receiving anything, default 10. */
  maxReconnects?: number;
}

interface Frame {
  id?: string;
  event?: string;
  data: string;
}

/** Splits SSE text into frames; returns them and the unfinished rest. */
function parseFrames(text: string): { frames: Frame[]; rest: string } {
  const blocks = text.replace(/\r\n/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  const frames: Frame[] = [];
  for (const block of blocks) {
    const frame: Frame = { data: '' };
    let data: string[] | undefined;
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') (data ??= []).push(value);
      else if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
    }
    if (data) frames.push({ ...frame, data: data.join('\n') });
  }
  return { frames, rest };
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * `GET /v1/runs/{runId}/events/stream` as an async iterator of events: history first, then live, until the run is
 * terminal and its last event was read. A dropped connection is resumed with `Last-Event-ID` (no event is lost or
 * repeated); an HTTP error (404, 400) rejects with SagaFlowError.
 */
export async function* watchRunEvents(
  fetchImpl: typeof globalThis.fetch,
  baseUrl: string,
  runId: string,
  options: WatchOptions = {},
  headers: Record<string, string> = {},
): AsyncGenerator<RunEvent, void, undefined> {
  let after = options.after ?? 0;
  let failures = 0;
  const url = `${baseUrl}/v1/runs/${encodeURIComponent(runId)}/events/stream`;
  while (!options.signal?.aborted) {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: { ...headers, accept: 'text/event-stream', 'last-event-id': String(after) },
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) return;
      if (++failures > (options.maxReconnects ?? 10)) throw error;
      await sleep(options.reconnectDelayMs ?? 1_000, options.signal);
      continue;
    }
    if (!response.ok || !response.body) {
      const body: unknown = await response.json().catch(() => undefined);
      throw toSagaFlowError(response, body);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const { frames, rest } = parseFrames(buffer);
        buffer = rest;
        for (const frame of frames) {
          if (frame.event === 'end') return;
          const event = JSON.parse(frame.data) as RunEvent;
          after = event.seq;
          failures = 0;
          yield event;
        }
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      if (++failures > (options.maxReconnects ?? 10)) throw error;
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    // the stream closed without `end`: the connection dropped; resume after the last event read
    await sleep(options.reconnectDelayMs ?? 1_000, options.signal);
  }
}
