import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { ADMIN_TOKEN, buildTestApp } from './helpers.js';

/**
 * docs/contract.md#security at registration, over real HTTP: SAGAFLOW_ALLOWED_HOSTS (read by the API's env module, host or host:port),
 * link-local and metadata addresses, and in production a service without SAGAFLOW_SERVICE_<NAME>_URL: each a 400
 * naming the host or the variable, and nothing stored.
 */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await testDb?.drop();
});

/** An API listening on loopback with these environment variables; returns its base URL. */
async function apiWith(env: Record<string, string>): Promise<string> {
  const app = buildTestApp(testDb.db, {}, env);
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

let seq = 0;
function definition(request: Record<string, unknown>, compensation?: Record<string, unknown>) {
  return {
    name: `dest-${++seq}`,
    version: '1.0.0',
    steps: [{ id: 'a', request, ...(compensation ? { compensation: { id: 'a-undo', request: compensation } } : {}) }],
  };
}

async function register(baseUrl: string, body: object): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/v1/admin/workflows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-token': ADMIN_TOKEN },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function stored(name: string): Promise<number> {
  const rows = await testDb.db.selectFrom('workflow_definitions').select('name').where('name', '=', name).execute();
  return rows.length;
}

describe('SAGAFLOW_ALLOWED_HOSTS at registration', () => {
  it('accepts listed hosts and host:port entries; refuses others with a 400 naming host:port', async () => {
    const api = await apiWith({ SAGAFLOW_ALLOWED_HOSTS: 'orders.internal,127.0.0.1:4010' });

    expect((await register(api, definition({ method: 'POST', url: 'http://orders.internal:9000/x' }))).status).toBe(
      201,
    );
    expect(
      (await register(api, definition({ method: 'POST', url: 'http://127.0.0.1:4010/{{input.id}}' }))).status,
    ).toBe(201);

    const otherPort = definition({ method: 'POST', url: 'http://127.0.0.1:4011/x' });
    const refused = await register(api, otherPort);
    expect(refused).toEqual({
      status: 400,
      body: expect.objectContaining({
        code: 'BAD_REQUEST',
        message: 'steps.0.request: host "127.0.0.1:4011" is not in SAGAFLOW_ALLOWED_HOSTS',
      }),
    });
    expect(await stored(otherPort.name)).toBe(0);
  });

  it('checks a service step by its configured base URL, compensations included', async () => {
    const api = await apiWith({
      SAGAFLOW_ALLOWED_HOSTS: 'payments.internal',
      SAGAFLOW_SERVICE_PAYMENTS_URL: 'http://payments.internal:8080',
    });
    expect((await register(api, definition({ method: 'POST', service: 'payments', path: '/charges' }))).status).toBe(
      201,
    );
    const refused = await register(
      api,
      definition(
        { method: 'POST', service: 'payments', path: '/charges' },
        { method: 'POST', service: 'inventory', path: '/x' },
      ),
    );
    expect(refused.status).toBe(400);
    expect(refused.body['message']).toBe(
      'steps.0.compensation.request: service "inventory" (SAGAFLOW_SERVICE_INVENTORY_URL): host "127.0.0.1:3002" is not in SAGAFLOW_ALLOWED_HOSTS',
    );
  });
});

describe('link-local and cloud-metadata addresses', () => {
  it('are refused without an explicit entry, and accepted when SAGAFLOW_ALLOWED_HOSTS lists the address', async () => {
    const open = await apiWith({});
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://[fd00:ec2::254]/', 'http://[fe80::1]/']) {
      const refused = await register(open, definition({ method: 'GET', url }));
      expect(refused.status, url).toBe(400);
      expect(refused.body['message']).toContain('is link-local or cloud metadata');
    }
    const listed = await apiWith({ SAGAFLOW_ALLOWED_HOSTS: '169.254.169.254:80' });
    expect((await register(listed, definition({ method: 'GET', url: 'http://169.254.169.254/x' }))).status).toBe(201);
  });
});

describe('NODE_ENV=production', () => {
  const production = { NODE_ENV: 'production', ADMIN_TOKEN };

  it('refuses a service without SAGAFLOW_SERVICE_<NAME>_URL, naming the variable (no silent mock default)', async () => {
    const api = await apiWith(production);
    const refused = await register(api, definition({ method: 'POST', service: 'payments', path: '/charges' }));
    expect(refused.status).toBe(400);
    expect(refused.body['message']).toContain('set SAGAFLOW_SERVICE_PAYMENTS_URL');
  });

  it('accepts it once the variable is set', async () => {
    const api = await apiWith({ ...production, SAGAFLOW_SERVICE_PAYMENTS_URL: 'http://payments:8080' });
    const accepted = await register(api, definition({ method: 'POST', service: 'payments', path: '/charges' }));
    expect(accepted.status).toBe(201);
  });
});
