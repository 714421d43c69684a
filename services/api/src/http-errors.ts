import type { FastifyError, FastifyInstance } from 'fastify';
import { isDatabaseUnavailable } from '@sagaflow/db';
import { codeOfStatus, toErrorBody } from './errors.js';
import { findUnstorableJson } from './schemas/json.js';
import { discardRefusedBody } from './refused-body.js';

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
      const problem = error ? undefined : findUnstorableJson(parsed);
      if (problem) {
        done(Object.assign(new Error(`request body ${problem}`), { statusCode: 400 }), undefined);
        return;
      }
      done(error, parsed);
    });
  });
}
