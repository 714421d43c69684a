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
    if (status === 413) discardRefusedBody(request, reply);
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

/**
 * A 413 must reach a client that is still sending its body. Fastify answers it with `connection: close`, and
 * closing a socket that still has unread data makes the kernel send a reset, which can destroy the 413 before
 * the client reads it (EPIPE/ECONNRESET in curl and the SDK). Instead the connection stays open: Node reads the
 * rest of the body and throws it away, then the connection serves the next request. Bounded twice: past
 * REFUSED_BODY_DISCARD_LIMIT bytes the socket is dropped, and the whole request must still arrive within
 * HTTP_REQUEST_TIMEOUT_MS.
 */
function discardRefusedBody(request: FastifyRequest, reply: FastifyReply): void {
  reply.removeHeader('connection');
  const raw = request.raw;
  if (raw.complete) return;
  reply.raw.once('finish', () => {
    let discarded = 0;
    raw.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > REFUSED_BODY_DISCARD_LIMIT) raw.socket.destroy();
    });
    raw.resume();
  });
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
