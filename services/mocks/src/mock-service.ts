import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { registerAdminRoutes } from './admin-routes.js';
import { installBodyHandling } from './body-parsing.js';
import { createMockState } from './mock-state.js';
import { handleOperation, type OperationContext, type OperationHandler } from './operation-route.js';
import { installRequestLog } from './request-log.js';

/** Fastify's `logger` option: false (silent), true (info), or pino options such as `{ level: 'debug' }`. */
export type MockLoggerOption = FastifyServerOptions['logger'];

export interface MockServiceOptions {
  /** Service name, recorded on every effect and bound to the logger as `name: mock-<name>`. */
  name: string;
  /** POST routes: path → handler building the success body. */
  routes: Record<string, OperationHandler>;
  logger?: MockLoggerOption;
}

/**
 * Builds (does not start) a mock downstream service: the given POST routes with deduplication by
 * `X-Idempotency-Key`, failure injection from `input.simulate`, an effect log and a request log.
 */
export function createMockService(options: MockServiceOptions): FastifyInstance {
  const app = Fastify({
    logger: resolveLogger(options.name, options.logger ?? false),
    forceCloseConnections: true,
  });
  const closing = new AbortController();
  const context: OperationContext = {
    service: options.name,
    state: createMockState(),
    hanging: new Set<ServerResponse>(),
    closing: closing.signal,
  };
  installBodyHandling(app);
  installRequestLog(app, context.state);
  registerAdminRoutes(app, options.name, context.state);
  for (const [path, handler] of Object.entries(options.routes)) {
    app.post(path, (request, reply) => handleOperation(context, path, handler, request, reply));
  }
  app.addHook('preClose', async () => {
    closing.abort();
    for (const response of context.hanging) response.destroy();
    context.hanging.clear();
  });
  return app;
}

function resolveLogger(name: string, logger: MockLoggerOption): MockLoggerOption {
  if (logger === false || logger === undefined) return false;
  if (logger === true) return { name: `mock-${name}` };
  return { name: `mock-${name}`, ...logger };
}
