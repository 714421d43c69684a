import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { codeOfStatus, toErrorBody } from './errors.js';
import { findUnstorableJson } from './schemas/json.js';

/**
 * Errors raised by Fastify itself, before any procedure runs (body too large, unsupported media type,
 * invalid JSON, unknown route), answered with the same `{ code, message }` body as the procedures.
 */
export function registerHttpErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (status === 413) discardRefusedBody(request, reply, app.server.requestTimeout || 30_000);
    const message =
      status === 413 ? `request body exceeds the limit of ${app.initialConfig.bodyLimit} bytes` : error.message;
    return reply.code(status).send(toErrorBody(codeOfStatus(status), message));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(toErrorBody('NOT_FOUND', `route ${request.method} ${request.url} not found`)),
  );
}

/** How much of a refused body is read and thrown away after its 413 before the connection is dropped. */
export const REFUSED_BODY_DISCARD_LIMIT = 64 * 1024 * 1024;
const DISCARD_CHECK_MS = 50;

/**
 * A 413 must reach a client that is still sending its body. Closing a socket that still has unread data makes
 * the kernel send a reset, which can destroy the 413 before the client reads it (EPIPE/ECONNRESET in curl and
 * the SDK). So the rest of the body is read and thrown away after the answer (Node reads it off the wire):
 * - normally the connection stays open and serves the next request once the body has arrived;
 * - when the client asked for `Connection: close`, it is a lingering close (as nginx does): the write side is
 *   shut after the 413 is flushed, the body is read to its end, then the socket is closed.
 * Bounded: past REFUSED_BODY_DISCARD_LIMIT bytes, or after the request timeout, the socket is dropped.
 */
function discardRefusedBody(request: FastifyRequest, reply: FastifyReply, timeoutMs: number): void {
  reply.removeHeader('connection');
  const raw = request.raw;
  if (raw.complete) return;
  const socket = raw.socket;
  const startBytes = socket.bytesRead;
  const deadline = Date.now() + timeoutMs;
  let lingering = false;
  const destroySoon = socket.destroySoon.bind(socket);
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

/**
 * application/json parser that reads an empty body as "no body" (an empty POST to cancel or retry), and refuses
 * (400) what Postgres jsonb or recursive validation could not take: NUL, lone surrogates, absurd nesting.
 */
export function allowEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, (error, parsed) => {
      const problem = error ? undefined : findUnstorableJson(parsed);
      if (problem) {
        done(Object.assign(new Error(`request body ${problem}`), { statusCode: 400 }), undefined);
        return;
      }
      done(error, parsed);
    });
  });
}
