import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
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
import type { ApiConfig } from './env.js';
import { registerDocsRoutes, rewriteDocsUrl } from './docs.js';
import { allowEmptyJsonBodies, registerHttpErrorHandlers } from './http-errors.js';
import { createLogger } from '@sagaflow/observability';
import { createApiMetrics, registerMetricsRoute } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import { registerOpenApiRoutes } from './openapi-adapter.js';
import { createMemoryRateLimiter, createRedisRateLimiter } from './rate-limit.js';
import { createReadinessCheck } from './readiness.js';
import { registerRequestTracing } from './request-tracing.js';
import { appRouter } from './router.js';
import { createRequestContext, resolveCorrelationId, type ApiServices } from './trpc.js';

export type AppConfig = Pick<ApiConfig, 'adminToken' | 'logLevel' | 'adminRateLimit' | 'bodyLimit'> &
  Partial<Pick<ApiConfig, 'logSensitive' | 'logRedactFields' | 'nodeEnv' | 'allowedHosts' | 'serviceUrls'>>;

export interface AppDeps {
  db: Db;
  /** Shared rate limits and a readiness check; in-memory limits without it. */
  redis?: Redis;
  config: AppConfig;
  /** A pino logger; otherwise one at `config.logLevel`, redacting unless `config.logSensitive` (createLogger). */
  logger?: FastifyBaseLogger;
  /** Where /metrics reads from; a fresh registry with default Node metrics otherwise. */
  metricsRegistry?: Registry;
  /** Redis key prefix of the admin rate limit (tests use a unique one). */
  rateLimitKeyPrefix?: string;
  /** Per-check timeout of /ready. */
  readinessTimeoutMs?: number;
}

/**
 * One line per request, when it completes (method, url, status, time), instead of Fastify's two ("incoming request"
 * and "request completed"): each line is a synchronous write, and the start endpoint is the hot path.
 */
class OneLineRequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/** Builds the API (routes, error handling, docs, metrics) without listening. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const { config } = deps;
  const common = {
    bodyLimit: config.bodyLimit,
    rewriteUrl: (req: { url?: string }) => rewriteDocsUrl(req.url ?? '/'),
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      resolveCorrelationId(req.headers['x-correlation-id']),
    logController: new OneLineRequestLog({ requestIdLogLabel: 'correlationId' }),
  };
  const logger =
    deps.logger ??
    createLogger({
      name: 'sagaflow-api',
      level: config.logLevel,
      sensitive: config.logSensitive ?? false,
      ...(config.logRedactFields ? { redactFields: config.logRedactFields } : {}),
    });
  const app = Fastify({ ...common, loggerInstance: logger }) as FastifyInstance;
  // first, so every route registered below gets its request span
  registerRequestTracing(app);
  const metrics = createApiMetrics(deps.db, deps.metricsRegistry);

  const catalog = new DefinitionCatalog(deps.db);
  const starts = new GroupCommitter<StartRunArgs, StartRunResult>({
    commit: (batch) => startRuns(deps.db, batch, catalog),
  });
  const services: ApiServices = {
    db: deps.db,
    startRun: (args) => starts.submit(args),
    adminToken: config.adminToken,
    adminRateLimiter: deps.redis
      ? createRedisRateLimiter(
          deps.redis,
          config.adminRateLimit,
          deps.rateLimitKeyPrefix ?? 'sagaflow:rate-limit:admin:',
        )
      : createMemoryRateLimiter(config.adminRateLimit),
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
  };

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-correlation-id', request.id);
    done();
  });
  registerHttpErrorHandlers(app);
  allowEmptyJsonBodies(app);
  registerOpenApiRoutes(app, {
    router: appRouter,
    services,
    urls: ['/v1/*', '/health', '/ready'],
    quietUrls: ['/health', '/ready'],
  });
  void app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      createContext: ({
        req,
        res,
      }: {
        req: Parameters<typeof createRequestContext>[1];
        res: Parameters<typeof createRequestContext>[2];
      }) => createRequestContext(services, req, res),
      onError: ({ error, req }: { error: { code: string; cause?: unknown }; req: FastifyRequest }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') req.log.error({ err: error.cause ?? error }, 'request failed');
      },
    },
  });

  const openApiDocument = buildOpenApiDocument();
  app.get('/openapi.json', (_request, reply) => reply.send(openApiDocument));
  registerDocsRoutes(app);
  registerMetricsRoute(app, metrics.registry);
  return app;
}
