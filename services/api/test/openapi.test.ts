import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument, sortKeys } from '../src/openapi.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const doc = buildOpenApiDocument() as Json;
const op = (path: string, method: string): Json => doc.paths[path][method];

describe('the generated OpenAPI document', () => {
  it('is OpenAPI 3.1 with every docs/contract.md#rest-api and #planned-run-history path', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/health',
      '/ready',
      '/v1/admin/operations',
      '/v1/admin/operations/{operationId}',
      '/v1/admin/operations/{operationId}/cancel',
      '/v1/admin/schedules',
      '/v1/admin/schedules/{id}',
      '/v1/admin/schedules/{id}/pause',
      '/v1/admin/schedules/{id}/resume',
      '/v1/admin/schedules/{id}/trigger',
      '/v1/admin/workflows',
      '/v1/admin/workflows/{name}/pause',
      '/v1/admin/workflows/{name}/resume',
      '/v1/runs',
      '/v1/runs/counts',
      '/v1/runs/{runId}',
      '/v1/runs/{runId}/cancel',
      '/v1/runs/{runId}/events',
      '/v1/runs/{runId}/events/stream',
      '/v1/runs/{runId}/pause',
      '/v1/runs/{runId}/redrive',
      '/v1/runs/{runId}/resume',
      '/v1/runs/{runId}/signals/{name}',
      '/v1/runs/{runId}/steps/{stepId}/retry',
      '/v1/whoami',
      '/v1/workflows',
      '/v1/workflows/{name}/start',
      '/v1/workflows/{name}/versions/{version}',
    ]);
  });

  it('says 202 for start, retry and cancel, and 201 + 200 for register', () => {
    for (const [path, method] of [
      ['/v1/workflows/{name}/start', 'post'],
      ['/v1/runs/{runId}/cancel', 'post'],
      ['/v1/runs/{runId}/steps/{stepId}/retry', 'post'],
      ['/v1/runs/{runId}/redrive', 'post'],
      ['/v1/runs/{runId}/pause', 'post'],
      ['/v1/runs/{runId}/resume', 'post'],
      ['/v1/admin/workflows/{name}/pause', 'post'],
      ['/v1/admin/workflows/{name}/resume', 'post'],
    ] as const) {
      const responses = op(path, method).responses as Json;
      expect(responses['202']).toBeDefined();
      expect(responses['200']).toBeUndefined();
    }
    const register = op('/v1/admin/workflows', 'post').responses as Json;
    expect(Object.keys(register)).toEqual(['200', '201', '400', '401', '403', '409', '413', '415', '429', '500']);
    expect(Object.keys(op('/v1/runs/{runId}', 'get').responses)).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '429',
      '500',
    ]);
    expect(register['429'].$ref).toBe('#/components/responses/TooManyRequests');
    expect(doc.components.responses.TooManyRequests.headers['Retry-After']).toBeDefined();
  });

  it('says what the schedule routes answer: 201 + 200 for PUT, 202 for pause/resume/trigger, 204 without a body for DELETE', () => {
    expect(Object.keys(op('/v1/admin/schedules/{id}', 'put').responses)).toEqual(
      expect.arrayContaining(['200', '201']),
    );
    for (const action of ['pause', 'resume', 'trigger']) {
      const responses = op(`/v1/admin/schedules/{id}/${action}`, 'post').responses as Json;
      expect(responses['202']).toBeDefined();
      expect(responses['200']).toBeUndefined();
    }
    const deleted = op('/v1/admin/schedules/{id}', 'delete').responses as Json;
    expect(deleted['204']).toBeDefined();
    expect(deleted['204'].content).toBeUndefined();
    for (const [path, method] of [
      ['/v1/admin/schedules', 'get'],
      ['/v1/admin/schedules/{id}', 'put'],
      ['/v1/admin/schedules/{id}', 'delete'],
    ] as const) {
      expect(op(path, method).security).toEqual([{ apiKey: [] }, { adminToken: [] }]);
    }
  });

  it('documents the real error body on every error response', () => {
    for (const item of Object.values(doc.paths) as Json[]) {
      for (const operation of Object.values(item) as Json[]) {
        for (const [status, response] of Object.entries(operation.responses as Json)) {
          if (Number(status) < 400 || status === '503') continue;
          const name = String(response.$ref).replace('#/components/responses/', '');
          expect(doc.components.responses[name].content['application/json'].schema).toEqual({
            $ref: '#/components/schemas/Error',
          });
        }
      }
    }
    expect(doc.components.schemas.Error.required).toEqual(['code', 'message']);
  });

  it('documents the idempotency and correlation headers, and the admin token', () => {
    const start = op('/v1/workflows/{name}/start', 'post');
    const headers = (start.parameters as Json[]).filter((p) => p.in === 'header').map((p) => p.name);
    expect(headers).toEqual(expect.arrayContaining(['idempotency-key', 'x-correlation-id', 'traceparent']));
    expect(start.responses['202'].headers['x-correlation-id']).toBeDefined();
    expect(op('/v1/admin/workflows', 'post').security).toEqual([{ apiKey: [] }, { adminToken: [] }]);
    expect(doc.components.securitySchemes.adminToken).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-admin-token',
    });
  });

  it('states the role of every operation, and API-key (bearer) or admin-token security on every /v1 one', () => {
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, item] of Object.entries(doc.paths) as Array<[string, Json]>) {
      for (const operation of Object.values(item) as Json[]) {
        if (path.startsWith('/v1/')) {
          expect(['client', 'operator', 'admin'], path).toContain(operation['x-sagaflow-role']);
          expect(operation.security, path).toEqual([{ apiKey: [] }, { adminToken: [] }]);
          expect(Object.keys(operation.responses as Json), path).toEqual(expect.arrayContaining(['401', '403']));
        } else {
          expect(operation['x-sagaflow-role'], path).toBe('public');
          expect(operation.security, path).toEqual([]);
        }
      }
    }
    expect(op('/v1/runs/{runId}/cancel', 'post')['x-sagaflow-role']).toBe('operator');
    expect(op('/v1/runs/{runId}/events/stream', 'get')['x-sagaflow-role']).toBe('client');
  });

  it('says 200 and 503 for /ready', () => {
    expect(Object.keys(op('/ready', 'get').responses)).toEqual(['200', '500', '503']);
  });

  it('sorts keys so the serialised document is stable', () => {
    expect(sortKeys({ b: 1, a: [{ d: 1, c: 2 }] })).toEqual({ a: [{ c: 2, d: 1 }], b: 1 });
    expect(JSON.stringify(sortKeys({ b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
  });
});
