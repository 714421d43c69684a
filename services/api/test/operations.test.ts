import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createDb, createPool } from '@sagaflow/db';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildOpenApiDocument } from '../src/openapi.js';
import { buildTestApp, json } from './helpers.js';
import { createCapturedApiLogger } from './observability/log-capture.js';

/** Postgres URL nobody listens on: connections are refused at once. */
const DEAD_POSTGRES = 'postgres://postgres@127.0.0.1:1/postgres';

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let app: FastifyInstance;

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = buildTestApp(testDb.db);
});

afterAll(async () => {
  await app?.close();
  await testDb?.drop();
});

function withDeadPostgres() {
  const pool = createPool(DEAD_POSTGRES, { connectionTimeoutMillis: 1000 });
  const db = createDb(pool);
  return { db, close: () => db.destroy() };
}

describe('health, readiness, metrics', () => {
  it('GET /health is 200 { status: ok }', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ status: 'ok' });
  });

  it('GET /health needs no database', async () => {
    const dead = withDeadPostgres();
    const deadApp = buildTestApp(dead.db);
    try {
      expect((await deadApp.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await deadApp.close();
      await dead.close();
    }
  });

  it('GET /ready is 200 naming the Postgres check when Postgres answers', async () => {
    const response = await app.inject({ method: 'GET', url: '/ready' });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ status: 'ok', checks: { postgres: 'ok' } });
  });

  it('GET /ready is 503 with code, message and checks, quickly, when Postgres is down', async () => {
    const dead = withDeadPostgres();
    const deadApp = buildTestApp(dead.db, { readinessTimeoutMs: 1500 });
    try {
      const started = Date.now();
      const response = await deadApp.inject({ method: 'GET', url: '/ready' });
      expect(Date.now() - started).toBeLessThan(3000);
      expect(response.statusCode).toBe(503);
      expect(json(response)).toEqual({
        status: 'error',
        code: 'SERVICE_UNAVAILABLE',
        message: expect.any(String),
        checks: { postgres: 'error' },
      });
    } finally {
      await deadApp.close();
      await dead.close();
    }
  });

  it('GET /ready is 503 naming Redis when Redis is configured but down', async () => {
    const redis = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    const redisApp = buildTestApp(testDb.db, { redis, readinessTimeoutMs: 1500 });
    try {
      const response = await redisApp.inject({ method: 'GET', url: '/ready' });
      expect(response.statusCode).toBe(503);
      expect(json(response)).toMatchObject({ checks: { postgres: 'ok', redis: 'error' } });
    } finally {
      await redisApp.close();
      redis.disconnect();
    }
  });

  it('a database that is unreachable makes a run lookup a 503, not a 500, and logs why at warn', async () => {
    const dead = withDeadPostgres();
    const { logs: log, logger } = createCapturedApiLogger();
    const deadApp = buildTestApp(dead.db, { logger });
    try {
      const response = await deadApp.inject({ method: 'GET', url: `/v1/runs/${randomUUID()}` });
      expect(response.statusCode).toBe(503);
      expect(json(response)).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.any(String) });
      const failed = log.records().filter((r) => r['msg'] === 'request failed');
      expect(failed).toEqual([
        expect.objectContaining({ level: 40, err: expect.objectContaining({ code: 'ECONNREFUSED' }) }),
      ]);
    } finally {
      await deadApp.close();
      await dead.close();
    }
  });

  it('an unexpected failure is a 500 with a fixed body, no internals', async () => {
    // a reachable database without the schema: "relation does not exist" is a bug, not an outage
    const admin = new pg.Client({ connectionString: process.env['DATABASE_URL'] });
    const name = `api_empty_${randomUUID().replaceAll('-', '')}`;
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(process.env['DATABASE_URL']!);
    url.pathname = `/${name}`;
    const pool = createPool(url.toString());
    const brokenApp = buildTestApp(createDb(pool));
    try {
      const response = await brokenApp.inject({ method: 'GET', url: `/v1/runs/${randomUUID()}` });
      expect(response.statusCode).toBe(500);
      expect(json(response)).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error' });
    } finally {
      await brokenApp.close();
      await pool.end();
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    }
  });

  it('GET /metrics is Prometheus text with the default Node metrics', async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(response.body).toContain('nodejs_heap_size_used_bytes');
  });

  it('unknown routes are 404 with the error body', async () => {
    for (const url of ['/nope', '/v1/nope']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(404);
      expect(json(response)).toEqual({ code: 'NOT_FOUND', message: expect.any(String) });
    }
  });
});

describe('no /trpc mount', () => {
  it('only the documented REST paths are served: /trpc (and its unbounded batches) is a 404', async () => {
    const single = await app.inject({ method: 'GET', url: '/trpc/health.health' });
    expect(single.statusCode).toBe(404);
    const batch = await app.inject({ method: 'GET', url: '/trpc/health.health,health.health?batch=1' });
    expect(batch.statusCode).toBe(404);
  });
});

describe('OpenAPI document and docs page', () => {
  it('GET /openapi.json serves the committed document', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const committed = JSON.parse(
      readFileSync(new URL('../../../openapi/openapi.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(json(response)).toEqual(committed);
    expect(buildOpenApiDocument()).toEqual(committed);
  });

  it('GET /docs is a reference page whose script is served locally, not from a CDN', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const scripts = [...page.body.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['/docs/js/scalar.js']);
    expect(page.body).not.toMatch(/cdn\.jsdelivr|unpkg\.com/);
    expect(page.body).toContain('/openapi.json');
    const script = await app.inject({ method: 'GET', url: '/docs/js/scalar.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
  });

  it("a path under /docs that the reference does not serve is the API's own 404; the page still loads after it", async () => {
    const missing = await app.inject({ method: 'GET', url: '/docs/no-such-file.js' });
    expect(missing.statusCode).toBe(404);
    expect(json(missing)).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    const head = await app.inject({ method: 'HEAD', url: '/docs/js/scalar.js' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toMatch(/javascript/);
    expect(head.body).toBe('');
  });

  it("GET /docs turns Scalar's promotions off and selects the admin token scheme", async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' });
    const configuration = /createApiReference\('#app', (\{[\s\S]*?\})\)\s*<\/script>/.exec(page.body)?.[1];
    expect(configuration).toBeDefined();
    expect(JSON.parse(configuration!)).toMatchObject({
      showDeveloperTools: 'never',
      hideClientButton: true,
      agent: { disabled: true },
      mcp: { disabled: true },
      authentication: { preferredSecurityScheme: 'adminToken' },
    });
  });
});
