import { request, type ClientRequest } from 'node:http';
import { nowMs } from './http-client.js';

/** One frame of a run's history stream as it arrived (`event: end` included, with seq undefined). */
export interface ArrivedFrame {
  type: string;
  seq: number | undefined;
  /** the event's `at` (epoch ms), undefined for `end` */
  atMs: number | undefined;
  /** wall-clock ms when the chunk holding the frame's end was read */
  arrivedAt: number;
}

export interface EventStream {
  /** wall-clock ms when the 200 and its headers arrived (the server read the history before it answered) */
  readonly openedAt: Promise<number>;
  /** resolves with every frame once the server ends the stream (after `event: end`) or `close()` is called */
  readonly done: Promise<ArrivedFrame[]>;
  /** frames so far */
  readonly frames: ArrivedFrame[];
  /** resolves when the first frame has arrived; rejects when the stream failed before */
  readonly firstFrame: Promise<void>;
  /** disconnects (as a browser tab that goes away) */
  close(): void;
}

/** Splits complete SSE frames off `buffer`; returns them and the incomplete rest. */
function splitFrames(buffer: string): { frames: Array<Record<string, string>>; rest: string } {
  const blocks = buffer.split('\n\n');
  const rest = blocks.pop() ?? '';
  const frames = blocks
    .filter((block) => !block.startsWith(':'))
    .map((block) => {
      const frame: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const at = line.indexOf(': ');
        if (at > 0) frame[line.slice(0, at)] = line.slice(at + 2);
      }
      return frame;
    });
  return { frames, rest };
}

/**
 * Opens `GET /v1/runs/{runId}/events/stream` on its own connection (no agent: each stream holds a socket, as each
 * browser tab would) and records when each frame arrives. Pings are dropped.
 */
export function openEventStream(apiUrl: string, runId: string, timeoutMs: number): EventStream {
  const base = new URL(apiUrl);
  const frames: ArrivedFrame[] = [];
  let req: ClientRequest | undefined;
  let resolveOpened!: (at: number) => void;
  let rejectOpened!: (error: Error) => void;
  const openedAt = new Promise<number>((resolve, reject) => {
    resolveOpened = resolve;
    rejectOpened = reject;
  });
  let resolveFirst!: () => void;
  let rejectFirst!: (error: Error) => void;
  const firstFrame = new Promise<void>((resolve, reject) => {
    resolveFirst = resolve;
    rejectFirst = reject;
  });
  const done = new Promise<ArrivedFrame[]>((resolve, reject) => {
    req = request(
      { host: base.hostname, port: base.port, path: `/v1/runs/${runId}/events/stream`, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          const error = new Error(`stream of ${runId}: HTTP ${res.statusCode}`);
          rejectOpened(error);
          rejectFirst(error);
          res.resume();
          reject(error);
          return;
        }
        resolveOpened(nowMs());
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          const arrivedAt = nowMs();
          const split = splitFrames(buffer + chunk);
          buffer = split.rest;
          for (const frame of split.frames) {
            const event = frame['event'] ?? '';
            const data =
              event === 'end' ? undefined : (JSON.parse(frame['data'] ?? '{}') as { seq: number; at: string });
            frames.push({ type: event, seq: data?.seq, atMs: data ? Date.parse(data.at) : undefined, arrivedAt });
          }
          if (frames.length > 0) resolveFirst();
        });
        const ended = (): void => {
          rejectFirst(new Error(`stream of ${runId} ended before its first frame`));
          resolve(frames);
        };
        res.on('end', ended);
        res.on('close', ended);
        res.on('error', ended);
      },
    );
    req.setTimeout(timeoutMs, () => req?.destroy(new Error(`stream of ${runId}: nothing for ${timeoutMs} ms`)));
    req.on('error', (error) => {
      rejectOpened(error);
      rejectFirst(error);
      if (frames.length > 0) resolve(frames);
      else reject(error);
    });
    req.end();
  });
  // whoever awaits one of them sees its rejection; one nobody awaits must not end the bench (unhandled rejection)
  for (const promise of [openedAt, firstFrame, done]) promise.catch(() => undefined);
  return { openedAt, done, frames, firstFrame, close: () => req?.destroy() };
}
