import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { hasRole, type Role } from '../src/api-keys.js';
import { buildOpenApiDocument } from '../src/openapi.js';
import { ADMIN_TOKEN, buildTestApp, json } from './helpers.js';

/**
 * Every endpoint × every credential, with and without SAGAFLOW_API_KEYS (docs/security.md). The endpoints and their
 * roles come from the OpenAPI document (itself generated from the router's declared roles), so an endpoint added
 * later is covered without touching this file. A request is built per operation from its parameters (an example
 * value per path parameter, an empty JSON body); the check is only 401 / 403 versus "neither" (an allowed request
 * may well be a 400 or a 404).
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const KEYS = {
  client: 'client-key-0123456789abcdef',
  operator: 'operator-key-0123456789abcdef',
  admin: 'admin-key-0123456789abcdef',
} as const;
const API_KEYS = Object.entries(KEYS)
  .map(([role, key]) => `${role}:${key}`)
  .join(',');

const CREDENTIALS = {
  none: {},
  client: { authorization: `Bearer ${KEYS.client}` },
  operator: { authorization: `Bearer ${KEYS.operator}` },
  admin: { authorization: `Bearer ${KEYS.admin}` },
  'admin-token': { 'x-admin-token': ADMIN_TOKEN },
  'wrong key': { authorization: 'Bearer not-a-key-0123456789abcdef' },
  'wrong admin token': { 'x-admin-token': 'not-the-admin-token-0123' },
} satisfies Record<string, Record<string, string>>;
type Credential = keyof typeof CREDENTIALS;

/** Example values for path parameters by name; any other uuid parameter gets a fresh UUID, the rest `x`. */
const EXAMPLE_PARAMS: Record<string, string> = { stepId: 'charge-payment', name: 'no-such-workflow', version: '1.0.0' };

function exampleValue(parameter: Json): string {
  if (EXAMPLE_PARAMS[parameter.name]) return EXAMPLE_PARAMS[parameter.name]!;
  const schema = (parameter.schema ?? {}) as Json;
  if (schema.format === 'uuid') return randomUUID();
  if (Array.isArray(schema.enum)) return String(schema.enum[0]);
  if (schema.type === 'integer' || schema.type === 'number') return String(schema.minimum ?? 1);
  return 'x';
}

interface Endpoint {
  method: string;
  path: string;
  role: Role | 'public';
}

const doc = buildOpenApiDocument() as { paths: Record<string, Record<string, Json>> };
const endpoints: Endpoint[] = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, role: op['x-sagaflow-role'] })),
);

function requestFor(endpoint: Endpoint, headers: Record<string, string>) {
  const op = doc.paths[endpoint.path]![endpoint.method.toLowerCase()]!;
  const parameters = (op.parameters ?? []) as Json[];
  let url = endpoint.path;
  const query = new URLSearchParams();
  for (const parameter of parameters) {
    if (parameter.in === 'path') url = url.replace(`{${parameter.name}}`, encodeURIComponent(exampleValue(parameter)));
    if (parameter.in === 'query' && parameter.required) query.set(parameter.name, exampleValue(parameter));
  }
  const withBody = ['POST', 'PUT', 'PATCH'].includes(endpoint.method);
  return {
    method: endpoint.method as 'GET',
    url: query.size > 0 ? `${url}?${query}` : url,
    headers,
    ...(withBody ? { payload: {} } : {}),
  };
}

/** 401, 403, or `allowed` (anything else). */
function expected(keysOn: boolean, role: Endpoint['role'], credential: Credential): 401 | 403 | 'allowed' {
  if (role === 'public') return 'allowed';
  if (!keysOn) {
    if (role !== 'admin') return 'allowed';
    return credential === 'admin-token' ? 'allowed' : 401;
  }
  if (credential === 'admin-token') return 'allowed';
  if (credential === 'client' || credential === 'operator' || credential === 'admin') {
    return hasRole(credential, role) ? 'allowed' : 403;
  }
  return 401;
}

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
const apps: { keysOn?: FastifyInstance; keysOff?: FastifyInstance } = {};

beforeAll(async () => {
  testDb = await createTestDatabase();
  apps.keysOn = buildTestApp(testDb.db, {}, { SAGAFLOW_API_KEYS: API_KEYS });
  apps.keysOff = buildTestApp(testDb.db);
});

afterAll(async () => {
  await apps.keysOn?.close();
  await apps.keysOff?.close();
  await testDb?.drop();
});

const rows = endpoints.flatMap((endpoint) =>
  (Object.keys(CREDENTIALS) as Credential[]).flatMap((credential) =>
    [true, false].map((keysOn) => ({
      ...endpoint,
      credential,
      keysOn,
      want: expected(keysOn, endpoint.role, credential),
    })),
  ),
);

describe('access matrix: every endpoint × credential, API keys on and off', () => {
  it('covers every /v1 endpoint of the document and the public ones', () => {
    expect(endpoints.filter((e) => e.path.startsWith('/v1/')).length).toBeGreaterThanOrEqual(6);
    expect(endpoints.every((e) => ['public', 'client', 'operator', 'admin'].includes(e.role))).toBe(true);
  });

  it.each(rows)('$method $path ($role) with $credential, keys $keysOn → $want', async (row) => {
    const app = row.keysOn ? apps.keysOn! : apps.keysOff!;
    const response = await app.inject(requestFor(row, CREDENTIALS[row.credential]));
    if (row.want === 'allowed') {
      expect([401, 403, 429], response.body).not.toContain(response.statusCode);
    } else {
      expect(response.statusCode, response.body).toBe(row.want);
      const body = json(response);
      expect(body).toEqual({ code: row.want === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message: expect.any(String) });
      if (row.keysOn && row.want === 401) expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });

  it.each(['/health', '/ready', '/metrics', '/docs', '/openapi.json'])(
    '%s needs no key, even with API keys on',
    async (url) => {
      for (const headers of [{}, CREDENTIALS['wrong key']]) {
        const response = await apps.keysOn!.inject({ method: 'GET', url, headers });
        expect([200, 302, 503], `${url} ${response.statusCode}`).toContain(response.statusCode);
      }
    },
  );

  it('a 403 names the role needed and the role of the key, never the key', async () => {
    const response = await apps.keysOn!.inject({
      method: 'POST',
      url: `/v1/runs/${randomUUID()}/cancel`,
      headers: CREDENTIALS.client,
    });
    expect(response.statusCode).toBe(403);
    expect(json(response).message).toBe('this endpoint needs the operator role; the key used has the client role');
    expect(response.body).not.toContain(KEYS.client);
  });
});
