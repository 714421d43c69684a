import type { FastifyReply, FastifyRequest } from 'fastify';

/** How much of a refused body is read and thrown away after the answer before the connection is dropped. */
export const REFUSED_BODY_DISCARD_LIMIT = 64 * 1024 * 1024;
const DISCARD_CHECK_MS = 50;
const kDestroySoon = Symbol('sagaflow.destroySoon');

type NodeSocket = NonNullable<FastifyRequest['raw']['socket']> & {
  destroySoon?: () => void;
  [kDestroySoon]?: () => void;
};

/**
 * A refusal (a 413, or a 415/403 sent before the body was read) must reach a client that is still sending its
 * body. Closing a socket that still has unread data makes the kernel send a reset, which can destroy the answer
 * before the client reads it (EPIPE/ECONNRESET in curl and the SDK). So the rest of the body is read and thrown away after the answer (Node reads it off the wire):
 * - normally the connection stays open and serves the next request once the body has arrived;
 * - when the client asked for `Connection: close`, it is a lingering close (as nginx does): the write side is
 *   shut after the answer is flushed, the body is read to its end, then the socket is closed.
 * Bounded: past REFUSED_BODY_DISCARD_LIMIT bytes, or after the request timeout, the socket is dropped.
 */
export function discardRefusedBody(request: FastifyRequest, reply: FastifyReply): void {
  const timeoutMs = request.server.server.requestTimeout || 30_000;
  reply.removeHeader('connection');
  const raw = request.raw;
  const socket = raw.socket as NodeSocket | null;
  // complete: nothing left to read; no destroySoon: not a network socket (app.inject)
  if (raw.complete || typeof socket?.destroySoon !== 'function') return;
  const startBytes = socket.bytesRead;
  const deadline = Date.now() + timeoutMs;
  let lingering = false;
  // Node's own, kept once per socket (a keep-alive socket can carry several refused requests)
  const destroySoon = (socket[kDestroySoon] ??= socket.destroySoon.bind(socket));
  // Node calls this right after a response that closes the connection: half-close instead, keep reading
  socket.destroySoon = () => {
    lingering = true;
    socket.end();
  };
  const watch = setInterval(() => {
    if (socket.destroyed) {
      clearInterval(watch);
    } else if (socket.bytesRead - startBytes > REFUSED_BODY_DISCARD_LIMIT || Date.now() > deadline) {
      clearInterval(watch);
      socket.destroy();
    } else if (raw.complete) {
      clearInterval(watch);
      socket.destroySoon = destroySoon;
      if (lingering) socket.destroy(); // everything was read: closing now sends no reset
    }
  }, DISCARD_CHECK_MS);
  watch.unref();
}
