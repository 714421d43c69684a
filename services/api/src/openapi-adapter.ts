import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createOpenApiNodeHttpHandler } from 'trpc-to-openapi';
import { isDatabaseUnavailable } from '@sagaflow/db';
import { publicCodeOf, toErrorBody } from './errors.js';
import type { AppRouter } from './router.js';
import { pinRouterInputs } from './schemas/no-coercion.js';
import { createRequestContext, type ApiServices, type Context } from './trpc.js';

/**
 * Serves the router's OpenAPI paths on Fastify. Like trpc-to-openapi's own Fastify plugin, but the
 * adapter writes into a captured response so every error body is reshaped to `{ code, message, issues? }`
 * before it is sent, and the Fastify-parsed body (size-limited, content-type checked) is used as is.
 */

interface CapturedResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string | undefined;
}

/** What the handler below passes as the adapter's `req`: the fields it reads plus our own. */
interface AdapterRequest {
  log: FastifyRequest['log'];
  /** Set by `onError`: the captured body is an error shape to reshape. */
  failed: boolean;
  /** Set by `onError`: the body's `code` instead of the tRPC code (errors.ts publicCodeOf). */
  publicCode: string | undefined;
  /** Set when the adapter asks for the context, i.e. it found a procedure for the path (not so for an unknown one). */
  routed: boolean;
  context: () => Context;
}

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The signal trpc-to-openapi puts in the `info` it hands to createContext and responseMeta, neither of which reads
 * it. Procedures that wait for something (the events long poll) use `ctx.signal`, which aborts when the client goes
 * away (trpc.ts).
 */
const UNUSED_SIGNAL = new AbortController().signal;

/**
 * The request as the adapter reads it: method, url, headers (only `content-type`, through `get`), the body Fastify
 * parsed (size-limited, content-type checked), the query, and a signal. It is made an instance of the Fetch API's
 * `Request` (by prototype, its fields its own) because, for any other request, trpc-to-openapi builds a whole Fetch
 * `Request` on each call only to read its `signal`: the URL, a `Headers` copy, the body stringified again into a
 * stream, an AbortController and two listeners. Skipping it cut the API's CPU per start by 29 %
 * (docs/performance.md#the-apis-fetch-request-per-call). The adapter only reads these own fields of a `Request`.
 */
function toAdapterRequest(request: FastifyRequest, own: AdapterRequest): AdapterRequest {
  const contentType =
    // media types are case-insensitive (RFC 9110 §8.3.1): `APPLICATION/JSON` passed the cross-site guard and Fastify's
    // parser, but trpc-to-openapi compares it as written (startsWith('application/json')) and would answer 415
    request.headers['content-type']?.toLowerCase() ??
    // an empty POST (cancel, retry) needs no content-type
    (METHODS_WITH_BODY.has(request.method) && request.body === undefined ? 'application/json' : undefined);
  const fields = {
    // HEAD is answered as GET without its body (Fastify's HEAD route drops the body): the same access check, the same
    // status; trpc-to-openapi itself has no HEAD procedures
    method: request.method === 'HEAD' ? 'GET' : request.method,
    url: request.url,
    headers: { get: (name: string) => (name.toLowerCase() === 'content-type' ? (contentType ?? null) : null) },
    body: request.body,
    query: request.query,
    signal: UNUSED_SIGNAL,
    ...own,
  };
  return Object.setPrototypeOf(fields, Request.prototype) as AdapterRequest;
}

function createCapturingResponse(captured: CapturedResponse): object {
  return {
    get statusCode() {
      return captured.statusCode;
    },
    set statusCode(value: number) {
      captured.statusCode = value;
    },
    get writableEnded() {
      return captured.body !== undefined;
    },
    setHeader(name: string, value: string) {
      captured.headers[name.toLowerCase()] = value;
    },
    end(data?: string) {
      captured.body = data ?? '';
    },
  };
}

function reshapeErrorBody(body: string | undefined, publicCode: string | undefined): object {
  const parsed = body ? (JSON.parse(body) as { code?: string; message?: string; issues?: unknown[] }) : {};
  const shaped = toErrorBody(parsed.code ?? 'INTERNAL_SERVER_ERROR', parsed.message ?? 'error', parsed.issues);
  return publicCode ? { ...shaped, code: publicCode } : shaped;
}

export type OpenApiHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** One Fastify handler that serves every OpenAPI path of the router (routed by trpc-to-openapi). */
export function createOpenApiHandler(opts: { router: AppRouter; services: ApiServices }): OpenApiHandler {
  pinRouterInputs(opts.router as never);
  const handler = createOpenApiNodeHttpHandler({
    router: opts.router,
    // The context comes from the Fastify request below; this is only reached through `handle`.
    createContext: ({ req }) => {
      const adapterRequest = req as unknown as AdapterRequest;
      adapterRequest.routed = true;
      return adapterRequest.context();
    },
    responseMeta: ({ ctx, errors }) => (errors.length > 0 || !ctx?.status ? {} : { status: ctx.status }),
    onError: ({ error, req }) => {
      const adapterRequest = req as unknown as AdapterRequest;
      adapterRequest.failed = true;
      adapterRequest.publicCode = publicCodeOf(error);
      if (error.code === 'INTERNAL_SERVER_ERROR') {
        adapterRequest.log.error({ err: error.cause ?? error }, 'request failed');
      } else if (isDatabaseUnavailable(error.cause)) {
        // a 503 the client retries: the cause (refused connection, failover's read-only server, …) is for operators
        adapterRequest.log.warn({ err: error.cause }, 'request failed');
      }
    },
  });

  return async (request, reply) => {
    const captured: CapturedResponse = { statusCode: 200, headers: {}, body: undefined };
    const req = toAdapterRequest(request, {
      log: request.log,
      failed: false,
      publicCode: undefined,
      routed: false,
      context: () => createRequestContext(opts.services, request, reply),
    });
    await handler(req as never, createCapturingResponse(captured) as never);
    if (!req.routed && captured.statusCode === 404) {
      // an unknown path: with API keys, every /v1 request needs a valid one first (SPEC §14), so a caller without
      // one learns nothing about which routes exist (401); any valid credential then gets the 404
      const access = await createRequestContext(opts.services, request, reply).authorize('client');
      if (!access.ok) {
        await reply.code(access.status).send(toErrorBody(access.code, access.message));
        return;
      }
    }
    const { 'content-type': _contentType, ...headers } = captured.headers;
    await reply
      .code(captured.statusCode)
      .headers(headers)
      .type('application/json; charset=utf-8')
      .send(req.failed ? reshapeErrorBody(captured.body, req.publicCode) : (captured.body ?? 'null'));
  };
}

/** Routes `urls` (Fastify wildcards allowed) of `app` to `handle`; `quietUrls` log their requests only at warn. */
export function registerOpenApiRoutes(
  app: FastifyInstance,
  handle: OpenApiHandler,
  opts: { urls: string[]; quietUrls?: string[] },
): void {
  for (const url of opts.urls) {
    // health checks come every few seconds: their request logs only at warn
    const quiet = opts.quietUrls?.includes(url) ?? false;
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url,
      handler: handle,
      ...(quiet ? { logLevel: 'warn' as const } : {}),
    });
  }
}
