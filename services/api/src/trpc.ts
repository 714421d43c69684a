import { randomUUID } from 'node:crypto';
import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { Db, StartRunArgs, StartRunResult } from '@sagaflow/db';
import type { Access, AccessControl, AccessResult, Principal } from './access-control.js';
import { INTERNAL_ERROR_MESSAGE, mapDomainError } from './errors.js';
import type { ApiMetrics } from './metrics.js';
import type { ReadinessReport } from './readiness.js';
import { requestSpanHeaders } from './request-tracing.js';
import type { RunEventsHub } from './run-events-hub.js';
import { correlationIdSchema } from './schemas/headers.js';
import type { TraceHeaders } from '@sagaflow/observability';
import type { DestinationSettings } from '@sagaflow/definitions';

/** What every request's context is built from: the app's long-lived dependencies. */
export interface ApiServices {
  db: Db;
  /** starts a run; concurrent starts share one statement and commit (group commit) */
  startRun: (args: StartRunArgs) => Promise<StartRunResult>;
  /** who may call what (API keys, admin token, the failed-credential limit) */
  access: AccessControl;
  checkReadiness: () => Promise<ReadinessReport>;
  metrics: Pick<ApiMetrics, 'runsStarted' | 'runDuration' | 'signalsReceived'>;
  /** where registered steps may go (SAGAFLOW_ALLOWED_HOSTS, service URLs, production) */
  destinations: DestinationSettings;
  /** wakes requests waiting for a run's next history event */
  runEvents: RunEventsHub;
  /** statement timeout of run search and counts, ms */
  searchTimeoutMs: number;
}

/** The ids every log line about a run carries. */
export interface RunIds {
  runId: string;
  workflowName: string;
  /** the run's correlation id (it can differ from this request's) */
  correlationId: string;
}

/** Request headers the procedures read (raw values; procedures validate what they use). */
export interface RequestHeaders {
  correlationId: string | undefined;
  idempotencyKey: string | undefined;
  traceParent: string | undefined;
  traceState: string | undefined;
}

export interface Context extends ApiServices {
  headers: RequestHeaders;
  /** The header's value when valid, otherwise a fresh UUID; sent back as `x-correlation-id`. */
  correlationId: string;
  log: FastifyBaseLogger;
  /** A logger for lines about a run: the run's correlationId, runId and workflowName, and this request's id. */
  runLog(run: RunIds): FastifyBaseLogger;
  /** This request's span as W3C headers; undefined with tracing off. */
  requestSpan: TraceHeaders | undefined;
  /** Success status for this response (the adapter's `responseMeta` reads it); 200 when unset. */
  status: number | undefined;
  setHeader(name: string, value: string): void;
  /** Aborts when the client goes away before the response is sent (long polls stop waiting). */
  readonly signal: AbortSignal;
  /** Whether this request may call an endpoint that needs `access` (the procedures' middleware calls it). */
  authorize(access: Access): Promise<AccessResult>;
  /** The caller, set by the access middleware before the procedure runs (anonymous until then). */
  principal: Principal;
  /**
   * The request has a JSON body that is not an object (an array, a string, a number, a boolean, null). Every body of
   * this API is an object; the adapter would spread such a body into the input, where it would pass unseen.
   */
  readonly bodyNotAnObject: boolean;
}

/** The request's correlation id: a valid `x-correlation-id` header, otherwise a fresh UUID. */
export function resolveCorrelationId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return correlationIdSchema.safeParse(value).data ?? randomUUID();
}

function readHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The per-request context of the REST (OpenAPI) routes. A class: every context has the same shape and shares its
 * methods. It was an object literal spreading the services, with three closures and a getter: V8 built each one
 * slowly, ≈ 16–24 µs of CPU per request (docs/performance.md#the-request-context).
 */
class RequestContext implements Context {
  readonly db: Db;
  readonly startRun: ApiServices['startRun'];
  readonly access: AccessControl;
  readonly checkReadiness: ApiServices['checkReadiness'];
  readonly metrics: ApiServices['metrics'];
  readonly destinations: DestinationSettings;
  readonly runEvents: RunEventsHub;
  readonly searchTimeoutMs: number;
  readonly headers: RequestHeaders;
  // app.ts makes the request id the correlation id (`resolveCorrelationId`): every log line carries it,
  // and every response sends it back as x-correlation-id.
  readonly correlationId: string;
  readonly log: FastifyBaseLogger;
  readonly requestSpan: TraceHeaders | undefined;
  status: number | undefined = undefined;
  principal: Principal = { role: undefined, keyId: undefined, idempotencyScope: undefined };
  /** made on first use: only waiting procedures need it */
  private abort: AbortController | undefined;

  constructor(
    services: ApiServices,
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
  ) {
    this.db = services.db;
    this.startRun = services.startRun;
    this.access = services.access;
    this.checkReadiness = services.checkReadiness;
    this.metrics = services.metrics;
    this.destinations = services.destinations;
    this.runEvents = services.runEvents;
    this.searchTimeoutMs = services.searchTimeoutMs;
    this.headers = {
      correlationId: readHeader(request, 'x-correlation-id'),
      idempotencyKey: readHeader(request, 'idempotency-key'),
      traceParent: readHeader(request, 'traceparent'),
      traceState: readHeader(request, 'tracestate'),
    };
    this.correlationId = request.id;
    this.log = request.log;
    this.requestSpan = requestSpanHeaders(request);
  }

  /** the app's logger, not the request's: the request's binds its own correlationId (the request id) */
  runLog(run: RunIds): FastifyBaseLogger {
    return this.request.server.log.child({
      correlationId: run.correlationId,
      runId: run.runId,
      workflowName: run.workflowName,
      requestId: this.request.id,
    });
  }

  setHeader(name: string, value: string): void {
    void this.reply.header(name, value);
  }

  authorize(access: Access): Promise<AccessResult> {
    return this.access.authorize(this.request, this.reply, access);
  }

  get bodyNotAnObject(): boolean {
    const { body } = this.request;
    return body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body));
  }

  get signal(): AbortSignal {
    if (!this.abort) {
      const abort = new AbortController();
      const raw = this.reply.raw;
      raw.once('close', () => {
        if (!raw.writableEnded) abort.abort();
      });
      this.abort = abort;
    }
    return this.abort.signal;
  }
}

/** Builds the per-request context of the REST (OpenAPI) routes. */
export function createRequestContext(services: ApiServices, request: FastifyRequest, reply: FastifyReply): Context {
  return new RequestContext(services, request, reply);
}

/**
 * What every procedure declares besides its OpenAPI route: the role it needs (docs/security.md). `role` is required
 * by the type, so a procedure cannot be given a route without one; test/access-roles.test.ts walks the router and
 * fails for any procedure without a role, or with `public` under /v1.
 */
export interface ApiMeta extends OpenApiMeta {
  role: Access;
}

const t = initTRPC
  .context<Context>()
  .meta<ApiMeta>()
  .create({
    // No stack traces, ever; 5xx messages stay internal (the REST adapter reshapes bodies in openapi-adapter.ts).
    errorFormatter: ({ shape, error }) => {
      const internal = error.code === 'INTERNAL_SERVER_ERROR';
      const { stack: _stack, ...data } = shape.data;
      return { ...shape, message: internal ? INTERNAL_ERROR_MESSAGE : shape.message, data };
    },
  });

export const createRouter = t.router;

/**
 * One middleware for every procedure (each level of tRPC's middleware chain copies the call's options twice):
 *
 * - access control, before the input is parsed: 401 (no or a wrong credential), 403 (a role too low), 429 (too many
 *   failed credential checks from this client). A procedure without a role is refused to all but admins (fail
 *   closed). The caller reaches the procedure as `ctx.principal`;
 * - domain errors from @sagaflow/db become 404/409/400 here, once, and a database that is down 503: the procedure's,
 *   and the access check's own (it may read Postgres or Redis).
 */
const guard = t.middleware(async ({ ctx, meta, next }) => {
  let access: AccessResult;
  try {
    access = await ctx.authorize(meta?.role ?? 'admin');
  } catch (cause) {
    throw mapDomainError(cause instanceof TRPCError ? cause : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause }));
  }
  if (!access.ok) throw new TRPCError({ code: access.code, message: access.message });
  // after the access check, as every other 400
  if (ctx.bodyNotAnObject) throw new TRPCError({ code: 'BAD_REQUEST', message: 'request body must be a JSON object' });
  // set in place, not through next({ ctx }): that would copy the context, and `status` is read from this object
  ctx.principal = access.principal;
  const result = await next();
  if (!result.ok) throw mapDomainError(result.error);
  return result;
});

/**
 * The base of every procedure. Declare the role in the meta next to the route:
 * `publicProcedure.meta({ role: 'operator', openapi: { ... } })` — roles client < operator < admin, or `public`
 * (outside /v1 only).
 */
export const publicProcedure = t.procedure.use(guard);
