import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import {
  DefinitionCatalog,
  GroupCommitter,
  startRuns,
  type Db,
  type StartRunArgs,
  type StartRunResult,
} from '@sagaflow/db';
import { DEFAULT_HTTP_TIMEOUTS, DEFAULT_SEARCH_TIMEOUT_MS, type ApiConfig } from './env.js';
import { registerConsole } from './console.js';
import { registerDocsRoutes, rewriteDocsUrl } from './docs.js';
import {
  allowEmptyJsonBodies,
  answerClientError,
  answerFrameworkError,
  refuseNulInUrl,
  registerHttpErrorHandlers,
} from './http-errors.js';
import { createLogger, redactionMatcher, redactUrlQuery } from '@sagaflow/observability';
import { createApiMetrics, registerMetricsRoute, registerRunEventsGauges } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import { createOpenApiHandler, registerOpenApiRoutes } from './openapi-adapter.js';
import { registerAdminRateLimit } from './rate-limit.js';
import { registerCrossSiteGuard } from './cross-site-guard.js';
import { createAccessControl } from './access-control.js';
import { createReadinessCheck } from './readiness.js';
import { registerRequestTracing } from './request-tracing.js';
import { setResponseHeaders } from './response-headers.js';
import { RunEventsHub, type RunEventsHubOptions } from './run-events-hub.js';
import { registerRunEventsStream } from './run-events-stream.js';
import { appRouter } from './router.js';
import { resolveCorrelationId, type ApiServices } from './trpc.js';

export type AppConfig = Pick<ApiConfig, 'adminToken' | 'logLevel' | 'adminRateLimit' | 'bodyLimit'> &
  Partial<
    Pick<
      ApiConfig,
      | 'logSensitive'
      | 'logBufferBytes'
      | 'logRedactKeys'
      | 'trustProxy'
      | 'httpTimeouts'
      | 'allowedOrigins'
      | 'nodeEnv'
      | 'allowedHosts'
      | 'serviceUrls'
      | 'searchTimeoutMs'
      | 'apiKeys'
      | 'consoleDir'
    >
  >;

export interface AppDeps {
  db: Db;
  /** Shared rate limits and a readiness check; in-memory limits without it. */
  redis?: Redis;
  config: AppConfig;
  /** A pino logger; otherwise one at `config.logLevel`, redacting unless `config.logSensitive` (createLogger). */
  logger?: FastifyBaseLogger;
  /** Where /metrics reads from; a fresh registry with default Node metrics otherwise. */
  metricsRegistry?: Registry;
  /** Redis key prefix of the admin rate limit, and (+ `auth-failures:`) of the failed-credential limit (tests use a unique one). */
  rateLimitKeyPrefix?: string;
  /** Per-check timeout of /ready. */
  readinessTimeoutMs?: number;
  /** `: ping` interval of event streams (default 15 s; tests shorten it). */
  streamPingMs?: number;
  /** The history listener's row refresh and idle close (RunEventsHub's defaults otherwise; tests shorten them). */
  runEventsHub?: RunEventsHubOptions;
}

/**
 * One line per request, when it completes (method, url, status, time), instead of Fastify's two ("incoming request"
 * and "request completed"): each line is a synchronous write, and the start endpoint is the hot path.
 */
class OneLineRequestLog extends LogController {
  /** `shownUrl`: the URL as logged (query values redacted unless LOG_SENSITIVE=true) */
  constructor(
    options: ConstructorParameters<typeof LogController>[0],
    private readonly shownUrl: (url: string) => string,
  ) {
    super(options);
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    // what Fastify's `req` serializer reads, with the URL as it may be logged (a search by `input={"email":…}` or a
    // `?token=` would otherwise be written as sent)
    const req = {
      method: request.method,
      url: this.shownUrl(request.url),
      headers: request.headers,
      host: request.host,
      ip: request.ip,
      socket: request.socket,
    };
    const line = { req, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/** TRUST_PROXY as Fastify takes it (a hop count n trusts the n proxies nearest to the API). */
function toFastifyTrustProxy(
  value: boolean | number | string[],
): boolean | string[] | ((a: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address, hop) => hop < value : value;
}

/** Builds the API (routes, error handling, docs, metrics) without listening. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const { config } = deps;
  const timeouts = config.httpTimeouts ?? DEFAULT_HTTP_TIMEOUTS;
  const urlMatcher = redactionMatcher(config.logRedactKeys ?? []);
  const shownUrl = config.logSensitive ? (url: string) => url : (url: string) => redactUrlQuery(url, urlMatcher);
  const common = {
    bodyLimit: config.bodyLimit,
    trustProxy: toFastifyTrustProxy(config.trustProxy ?? false),
    // a client gets headersMs to send its headers and requestMs for the whole request (body included); an idle
    // keep-alive connection is closed after keepAliveMs, any socket idle for connectionMs (a stuck reader)
    http: { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: 1_000 },
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionTimeout: timeouts.connectionMs,
    rewriteUrl: (req: { url?: string }) => rewriteDocsUrl(req.url ?? '/'),
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      resolveCorrelationId(req.headers['x-correlation-id']),
    logController: new OneLineRequestLog({ requestIdLogLabel: 'correlationId' }, shownUrl),
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  };
  const logger =
    deps.logger ??
    createLogger({
      name: 'sagaflow-api',
      level: config.logLevel,
      sensitive: config.logSensitive ?? false,
      bufferBytes: config.logBufferBytes ?? 0,
      ...(config.logRedactKeys ? { redactKeys: config.logRedactKeys } : {}),
    });
  const app = Fastify({ ...common, loggerInstance: logger }) as FastifyInstance;
  // first, so every route registered below gets its request span
  registerRequestTracing(app);
  const metrics = createApiMetrics(deps.db, deps.metricsRegistry);

  const catalog = new DefinitionCatalog(deps.db);
  const starts = new GroupCommitter<StartRunArgs, StartRunResult>({
    commit: (batch) => startRuns(deps.db, batch, catalog),
  });
  const apiKeys = config.apiKeys ?? [];
  if (config.nodeEnv === 'production' && apiKeys.length === 0) {
    app.log.warn(
      'SAGAFLOW_API_KEYS not set: every non-admin /v1 endpoint is open to anyone who can reach the API (docs/security.md)',
    );
  }
  const services: ApiServices = {
    db: deps.db,
    startRun: (args) => starts.submit(args),
    access: createAccessControl(app, {
      keys: apiKeys,
      adminToken: config.adminToken,
      policy: config.adminRateLimit,
      redis: deps.redis,
      ...(deps.rateLimitKeyPrefix ? { nameSpace: `${deps.rateLimitKeyPrefix}auth-failures:` } : {}),
    }),
    checkReadiness: createReadinessCheck({
      db: deps.db,
      redis: deps.redis,
      timeoutMs: deps.readinessTimeoutMs ?? 2000,
    }),
    metrics,
    destinations: {
      allowedHosts: config.allowedHosts,
      serviceUrls: config.serviceUrls ?? {},
      production: config.nodeEnv === 'production',
    },
    runEvents: new RunEventsHub(deps.db, app.log, deps.runEventsHub),
    searchTimeoutMs: config.searchTimeoutMs ?? DEFAULT_SEARCH_TIMEOUT_MS,
  };
  app.addHook('onClose', async () => {
    metrics.stopRuntimeMetrics();
    await services.runEvents.close();
  });
  registerRunEventsGauges(metrics.registry, services.runEvents);

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-correlation-id', request.id);
    setResponseHeaders(reply, request.url);
    done();
  });
  refuseNulInUrl(app);
  registerCrossSiteGuard(app, config.allowedOrigins ?? []);
  registerHttpErrorHandlers(app);
  allowEmptyJsonBodies(app);
  registerRunEventsStream(app, {
    db: deps.db,
    hub: services.runEvents,
    access: services.access,
    ...(deps.streamPingMs ? { pingIntervalMs: deps.streamPingMs } : {}),
  });
  const handleApi = createOpenApiHandler({ router: appRouter, services });
  registerOpenApiRoutes(app, handleApi, { urls: ['/v1/*', '/health', '/ready'], quietUrls: ['/health', '/ready'] });
  // the admin routes in their own scope: only they are rate limited, counted before the token is checked
  void app.register(async (admin) => {
    await registerAdminRateLimit(admin, {
      policy: config.adminRateLimit,
      redis: deps.redis,
      nameSpace: deps.rateLimitKeyPrefix,
    });
    registerOpenApiRoutes(admin, handleApi, { urls: ['/v1/admin/*'] });
  });

  // built on the first request, not at start: building it allocates tens of MB that V8 would keep as heap
  let openApiDocument: ReturnType<typeof buildOpenApiDocument> | undefined;
  app.get('/openapi.json', (_request, reply) => reply.send((openApiDocument ??= buildOpenApiDocument())));
  registerDocsRoutes(app);
  registerConsole(app, config.consoleDir);
  registerMetricsRoute(app, metrics.registry);
  return app;
}
