import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from '@sagaflow/db/testing';
import { isAdminTokenValid } from '../src/admin-token.js';
import { ADMIN_TOKEN, buildTestApp, json, makeDefinition } from './helpers.js';

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await testDb?.drop();
});

function limitedApp(env: Record<string, string> = {}): FastifyInstance {
  const app = buildTestApp(testDb.db, {}, { ADMIN_RATE_LIMIT_MAX: '3', ADMIN_RATE_LIMIT_WINDOW_MS: '60000', ...env });
  apps.push(app);
  return app;
}

function register(app: FastifyInstance, token: string, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/v1/admin/workflows',
    headers: { 'x-admin-token': token, ...headers },
    payload: makeDefinition(),
  });
}

describe('admin rate limit (in memory, @fastify/rate-limit)', () => {
  it('counts wrong-token guesses: after the budget even the right token gets 429 with Retry-After', async () => {
    const app = limitedApp();
    for (let i = 0; i < 3; i++) expect((await register(app, `wrong-guess-${i}`)).statusCode).toBe(401);
    const refused = await register(app, ADMIN_TOKEN);
    expect(refused.statusCode).toBe(429);
    expect(json(refused)).toEqual({ code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/rate limit/) });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('limits only the admin routes', async () => {
    const app = limitedApp();
    for (let i = 0; i < 4; i++) await register(app, 'wrong');
    for (let i = 0; i < 5; i++) expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    const unknownRun = await app.inject({ method: 'GET', url: '/v1/runs/00000000-0000-4000-8000-000000000000' });
    expect(unknownRun.statusCode).toBe(404);
  });

  it('without TRUST_PROXY, X-Forwarded-For is ignored: one budget for the proxy address', async () => {
    const app = limitedApp();
    for (let i = 0; i < 3; i++) await register(app, 'wrong', { 'x-forwarded-for': `203.0.113.${i}` });
    expect((await register(app, ADMIN_TOKEN, { 'x-forwarded-for': '203.0.113.99' })).statusCode).toBe(429);
  });

  it('with TRUST_PROXY=true, each client behind the proxy has its own budget', async () => {
    const app = limitedApp({ TRUST_PROXY: 'true' });
    for (let i = 0; i < 3; i++) await register(app, 'wrong', { 'x-forwarded-for': '203.0.113.1' });
    expect((await register(app, 'wrong', { 'x-forwarded-for': '203.0.113.1' })).statusCode).toBe(429);
    expect((await register(app, ADMIN_TOKEN, { 'x-forwarded-for': '203.0.113.2' })).statusCode).toBe(201);
  });

  it('TRUST_PROXY as a proxy address list trusts X-Forwarded-For only from those proxies', async () => {
    const app = limitedApp({ TRUST_PROXY: '10.0.0.0/8' });
    const viaProxy = { remoteAddress: '10.1.2.3' };
    const send = (client: string, remoteAddress: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/admin/workflows',
        headers: { 'x-admin-token': 'wrong', 'x-forwarded-for': client },
        payload: makeDefinition(),
        remoteAddress,
      });
    for (let i = 0; i < 3; i++) await send('203.0.113.7', viaProxy.remoteAddress);
    expect((await send('203.0.113.7', viaProxy.remoteAddress)).statusCode).toBe(429);
    expect((await send('203.0.113.8', viaProxy.remoteAddress)).statusCode).toBe(401);
    // not a trusted proxy: its own address counts, whatever it forwards
    for (let i = 0; i < 3; i++) await send(`198.51.100.${i}`, '192.0.2.50');
    expect((await send('198.51.100.200', '192.0.2.50')).statusCode).toBe(429);
  });
});

describe('isAdminTokenValid', () => {
  it('accepts only the exact token, of any length, and nothing when no token is configured', () => {
    expect(isAdminTokenValid('s3cret-token-value', 's3cret-token-value')).toBe(true);
    expect(isAdminTokenValid('s3cret-token-value', 's3cret-token-valuE')).toBe(false);
    expect(isAdminTokenValid('s3cret-token-value', 's3cret')).toBe(false);
    expect(isAdminTokenValid('s3cret-token-value', undefined)).toBe(false);
    expect(isAdminTokenValid(undefined, '')).toBe(false);
  });
});
