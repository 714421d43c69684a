import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '@sagaflow/db';
import { codeOfStatus, toErrorBody } from './errors.js';
import { findUnstorableJson } from './schemas/json.js';
import { discardRefusedBody } from './refused-body.js';
import { setResponseHeaders } from './response-headers.js';

/**
 * Errors raised by Fastify itself, before any procedure runs (body too large, unsupported media type,
 * invalid JSON, unknown route), answered with the same `{ code, message }` body as the procedures.
 */
export function registerHttpErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // a plain Fastify route (the event stream) whose database read found no connection: a 503 to retry, as in /v1
    const unavailable = !error.statusCode && isDatabaseUnavailable(error);
    const status = unavailable ? 503 : error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log[unavailable ? 'warn' : 'error']({ err: error }, 'request failed');
    if (status === 413) discardRefusedBody(request, reply);
    const message = unavailable
      ? 'the database is unavailable; retry shortly'
      : status === 413
        ? `request body exceeds the limit of ${app.initialConfig.bodyLimit} bytes`
        : error.message;
    return reply.code(status).send(toErrorBody(codeOfStatus(status), message));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(toErrorBody('NOT_FOUND', `route ${request.method} ${request.url} not found`)),
  );
}

/**
 * A URL holding the NUL character (`%00`, in the path or the query) is refused with a 400 before any route runs:
 * Postgres text cannot hold it, so a filter such as `?correlationId=%00` would otherwise fail in the database (a 500).
 */
export function refuseNulInUrl(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const url = request.raw.url ?? '';
    if (url.includes('%00') || url.includes('\u0000')) {
      void reply.code(400).send(toErrorBody('BAD_REQUEST', 'the URL must not contain the NUL character (%00)'));
      return;
    }
    done();
  });
}

function isPlainJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
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
    // Fastify's default JSON parser is synchronous and answers through the callback; its type also admits a
    // Promise-returning parser, which this one is not, so there is nothing to await.
    void parseJson(request, text, (error, parsed) => {
      if (error && isPlainJson(text)) {
        // valid JSON that Fastify's parser refuses: a prototype-poisoning key, not "not valid JSON"
        const message = 'request body must not use the keys __proto__ or constructor.prototype';
        done(Object.assign(new Error(message), { statusCode: 400 }), undefined);
        return;
      }
      const problem = error ? undefined : findUnstorableJson(parsed);
      if (problem) {
        done(Object.assign(new Error(`request body ${problem}`), { statusCode: 400 }), undefined);
        return;
      }
      done(error, parsed);
    });
  });
}

/**
 * Fastify's `frameworkErrors`: a request its router refuses before any route runs (a path that is not valid
 * percent-encoding, an over-long parameter), answered 400 with the API's error body instead of Fastify's own.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  // before any onRequest hook: the headers they set for every answer are set here
  setResponseHeaders(reply, request.url);
  void reply.code(400).send(toErrorBody('BAD_REQUEST', error.message));
}

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refuses (malformed, headers too large, too slow),
 * where no Fastify request exists. The same statuses as Fastify's default (408, 431, else 400), with the API's error
 * body; the connection is closed, as after any parse error.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'the request was not received in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'the request headers exceed the maximum size']
        : [400, 'malformed HTTP request'];
  const body = JSON.stringify(toErrorBody(codeOfStatus(status), message));
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  socket.destroy(error);
}
