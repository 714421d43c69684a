import { pingDatabase, type Db } from '@sagaflow/db';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Engine } from './engine.js';

/** The engine's operational HTTP surface: /health (no I/O), /ready (Postgres reachable), /metrics. */
export function buildEngineHttp(deps: { db: Db; engine: Engine; registry: Registry; logger: Logger }) {
  // request logs are info-level: at warn only problems show (scrapes every few seconds would drown the run logs)
  const app = Fastify({ loggerInstance: deps.logger.child({ component: 'http' }, { level: 'warn' }) });
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    try {
      await Promise.race([
        pingDatabase(deps.db),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000).unref()),
      ]);
      return { status: 'ready', checks: { postgres: 'ok' } };
    } catch (error) {
      return reply.code(503).send({
        code: 'SERVICE_UNAVAILABLE',
        message: 'postgres is not reachable',
        status: 'not ready',
        checks: { postgres: error instanceof Error ? `error: ${error.message}` : 'error' },
      });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });
  return app;
}
