import { readRunEvents, type Db } from '@sagaflow/db';
import type { RunEvent } from '@sagaflow/saga';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AccessControl } from './access-control.js';
import { toErrorBody } from './errors.js';
import type { RunEventsHub } from './run-events-hub.js';

/** GET /v1/runs/{runId}/events/stream (docs/contract.md#run-history): the history as Server-Sent Events, replayed then live. */

export const STREAM_PATH = '/v1/runs/:runId/events/stream';
/** The role the stream needs, like the events list (docs/security.md); checked before anything else. */
export const STREAM_ROLE = 'client';
export const PING_INTERVAL_MS = 15_000;
const PAGE = 500;

const paramsSchema = z.object({ runId: z.uuid() });
const cursorSchema = z.string().regex(/^\d{1,9}$/);

function frame(event: RunEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function registerRunEventsStream(
  app: FastifyInstance,
  deps: { db: Db; hub: RunEventsHub; access: AccessControl; pingIntervalMs?: number },
): void {
  const pingMs = deps.pingIntervalMs ?? PING_INTERVAL_MS;
  app.get(STREAM_PATH, async (request, reply) => {
    const allowed = await deps.access.authorize(request, reply, STREAM_ROLE);
    if (!allowed.ok) return reply.code(allowed.status).send(toErrorBody(allowed.code, allowed.message));
    const params = paramsSchema.safeParse(request.params);
    if (!params.success) return reply.code(400).send(toErrorBody('BAD_REQUEST', 'runId must be a UUID'));
    const { runId } = params.data;
    const lastEventId = request.headers['last-event-id'];
    const raw = typeof lastEventId === 'string' ? lastEventId : (request.query as { after?: unknown }).after;
    if (raw !== undefined && !cursorSchema.safeParse(raw).success) {
      return reply
        .code(400)
        .send(toErrorBody('BAD_REQUEST', 'Last-Event-ID / after must be a non-negative integer (an event seq)'));
    }
    let after = raw === undefined ? 0 : Number(raw);
    const first = await readRunEvents(deps.db, runId, after, PAGE);
    if (!first) return reply.code(404).send(toErrorBody('NOT_FOUND', `run ${runId} not found`));

    const abort = new AbortController();
    const out = reply.raw;
    out.once('close', () => abort.abort());
    // the client may have gone during the first read, before 'close' was listened to
    if (request.raw.socket.destroyed) abort.abort();
    const untrack = deps.hub.trackStream();
    reply.hijack();
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      // as every /v1 answer (response-headers.ts), which this head, written by hand, does not get from the reply
      'cache-control': 'no-store, no-transform',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
      'x-correlation-id': request.id,
      // proxies (nginx) must not buffer the stream
      'x-accel-buffering': 'no',
    });
    /** Writes, then waits for the socket to drain (a slow client must not make the history pile up in memory). */
    const send = async (text: string): Promise<void> => {
      if (out.write(text) || abort.signal.aborted) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          out.off('drain', done);
          abort.signal.removeEventListener('abort', done);
          resolve();
        };
        out.on('drain', done);
        abort.signal.addEventListener('abort', done, { once: true });
      });
    };
    let page = first;
    let lastWrite = Date.now();
    try {
      for (;;) {
        if (abort.signal.aborted) return;
        if (page.events.length > 0) {
          await send(page.events.map(frame).join(''));
          after = page.events.at(-1)!.seq;
          lastWrite = Date.now();
        }
        if (page.terminal && page.events.length < PAGE) {
          out.end('event: end\ndata: {}\n\n');
          return;
        }
        if (page.events.length < PAGE) {
          // subscribed before the read below: nothing committed in between is missed
          const subscription = deps.hub.subscribe(runId);
          const next = await readRunEvents(deps.db, runId, after, PAGE).catch((error: unknown) => {
            subscription.close();
            throw error;
          });
          if (next && next.events.length === 0 && !next.terminal) {
            await subscription.wait(Math.max(0, lastWrite + pingMs - Date.now()), abort.signal);
          } else subscription.close();
        }
        if (abort.signal.aborted) return;
        const read = await readRunEvents(deps.db, runId, after, PAGE);
        if (!read) {
          out.end();
          return;
        }
        page = read;
        if (page.events.length === 0 && !page.terminal && Date.now() - lastWrite >= pingMs) {
          await send(': ping\n\n');
          lastWrite = Date.now();
        }
      }
    } catch (error) {
      request.log.warn({ err: error, runId }, 'run events stream failed; closing it');
      out.destroy();
    } finally {
      untrack();
    }
  });
}
