import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readHeader } from './body-fields.js';
import type { MockRequestEntry, MockState } from './mock-state.js';

export const ADMIN_PATHS: ReadonlySet<string> = new Set(['/__effects', '/__requests', '/__reset', '/health']);

/** Records every non-admin request on arrival (before body parsing) and its status once answered. */
export function installRequestLog(app: FastifyInstance, state: MockState): void {
  const entries = new WeakMap<FastifyRequest, MockRequestEntry>();
  app.addHook('onRequest', async (request) => {
    const path = readPathname(request.url);
    if (ADMIN_PATHS.has(path)) return;
    const entry: MockRequestEntry = {
      idempotencyKey: readHeader(request.headers, 'x-idempotency-key') ?? null,
      attempt: readAttempt(readHeader(request.headers, 'x-sagaflow-attempt')),
      path,
      at: new Date().toISOString(),
      status: null,
    };
    state.requests.push(entry);
    entries.set(request, entry);
  });
  app.addHook('onResponse', async (request, reply) => {
    const entry = entries.get(request);
    if (entry) entry.status = reply.statusCode;
  });
}

export function readPathname(url: string): string {
  const end = url.indexOf('?');
  return end === -1 ? url : url.slice(0, end);
}

function readAttempt(header: string | undefined): number | null {
  if (header === undefined || !/^\d{1,9}$/.test(header)) return null;
  return Number(header);
}
