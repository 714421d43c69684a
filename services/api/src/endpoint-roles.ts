import type { Access } from './access-control.js';
import type { ApiMeta } from './trpc.js';
import { STREAM_ROLE } from './run-events-stream.js';

/**
 * The role every endpoint declares, read from the router (each procedure's `meta.role`) plus the Fastify routes
 * served beside it (the event stream). The OpenAPI document states it per operation (`x-sagaflow-role`, security),
 * and the tests walk it: every /v1 endpoint must declare a role other than `public`.
 */

export interface EndpointRole {
  /** the tRPC procedure path (`runs.get`), or the Fastify route for routes outside tRPC */
  procedure: string;
  method: string;
  /** the OpenAPI path, `{param}` style */
  path: string;
  operationId: string | undefined;
  /** undefined: the procedure declares none (refused to all but admins at run time, and a test failure) */
  role: Access | undefined;
}

interface ProcedureLike {
  _def: { meta?: Partial<ApiMeta> };
}

/** Every endpoint of `router` (any tRPC router) and the event stream, with the role it declares. */
export function listEndpointRoles(router: { _def: { procedures: object } }): EndpointRole[] {
  const procedures = router._def.procedures as Record<string, ProcedureLike>;
  const endpoints = Object.entries(procedures).map(([procedure, { _def }]) => ({
    procedure,
    method: _def.meta?.openapi?.method ?? '',
    path: _def.meta?.openapi?.path ?? '',
    operationId: _def.meta?.openapi?.operationId,
    role: _def.meta?.role,
  }));
  endpoints.push({
    procedure: 'fastify:GET /v1/runs/:runId/events/stream',
    method: 'GET',
    path: '/v1/runs/{runId}/events/stream',
    operationId: 'streamRunEvents',
    role: STREAM_ROLE,
  });
  return endpoints;
}
