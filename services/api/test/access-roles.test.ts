import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listEndpointRoles } from '../src/endpoint-roles.js';
import { buildOpenApiDocument } from '../src/openapi.js';
import { appRouter } from '../src/router.js';
import { publicProcedure } from '../src/trpc.js';

/**
 * Every endpoint declares the role it needs (docs/security.md): a procedure added without one fails here (and, with
 * a route, already fails `pnpm typecheck`: `role` is required by the meta type).
 */

const ROLES = ['client', 'operator', 'admin'];

describe('declared roles', () => {
  const endpoints = listEndpointRoles(appRouter);

  it('every procedure has a route and a role; under /v1 one of client, operator, admin; outside /v1 public', () => {
    expect(endpoints.length).toBeGreaterThan(5);
    const missing = endpoints.filter((e) => e.role === undefined).map((e) => e.procedure);
    expect(missing, 'procedures without meta.role').toEqual([]);
    for (const endpoint of endpoints) {
      expect(endpoint.path, endpoint.procedure).not.toBe('');
      if (endpoint.path.startsWith('/v1/')) expect(ROLES, endpoint.procedure).toContain(endpoint.role);
      else expect(endpoint.role, endpoint.procedure).toBe('public');
    }
  });

  it('assigns SPEC §14 roles to the endpoints that exist today', () => {
    const roleOf = Object.fromEntries(endpoints.map((e) => [e.operationId, e.role]));
    expect(roleOf).toMatchObject({
      startRun: 'client',
      getRun: 'client',
      listRunEvents: 'client',
      streamRunEvents: 'client',
      sendSignal: 'client',
      cancelRun: 'operator',
      retryStep: 'operator',
      registerWorkflow: 'admin',
      getHealth: 'public',
      getReadiness: 'public',
    });
  });

  it('the OpenAPI document has exactly these operations, each with its role', () => {
    const doc = buildOpenApiDocument() as { paths: Record<string, Record<string, { 'x-sagaflow-role': string }>> };
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => `${method.toUpperCase()} ${path} ${op['x-sagaflow-role']}`),
    );
    expect(documented.sort()).toEqual(endpoints.map((e) => `${e.method} ${e.path} ${e.role}`).sort());
  });

  it('a route without a role does not type-check', () => {
    const withoutRole = () =>
      publicProcedure
        // @ts-expect-error -- `role` is required next to `openapi`
        .meta({ openapi: { method: 'GET', path: '/v1/nothing' } })
        .input(z.void())
        .output(z.void())
        .query(() => undefined);
    expect(typeof withoutRole).toBe('function');
  });
});
