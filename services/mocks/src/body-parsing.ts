import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

type ParserDone = (error: Error | null, body?: unknown) => void;

/**
 * Makes odd input harmless: an empty JSON body is "no body", invalid JSON is a 400, unknown content types are
 * parsed as JSON when they are JSON and kept as text otherwise; every client error is a JSON 4xx and only a
 * real bug is a 500.
 */
export function installBodyHandling(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    parseStrictJson(String(body), done);
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseLenientBody(String(body)));
  });
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` });
  });
}

function parseStrictJson(text: string, done: ParserDone): void {
  if (text.trim() === '') {
    done(null, undefined);
    return;
  }
  try {
    done(null, JSON.parse(text));
  } catch {
    done(Object.assign(new Error('request body is not valid JSON'), { statusCode: 400, code: 'INVALID_JSON' }));
  }
}

function parseLenientBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function sendError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return reply.code(status).send({ code: error.code ?? 'BAD_REQUEST', message: error.message });
  }
  request.log.error({ err: error }, 'mock request failed');
  return reply.code(500).send({ code: 'INTERNAL', message: 'internal error' });
}
