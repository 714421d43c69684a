import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildTestApp, json } from './helpers.js';

/** The web console's files at /ui (docs/console.md): static files, the SPA fallback, headers, and "not built". */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let dir: string;
let app: FastifyInstance;
let unbuilt: FastifyInstance;
const INDEX =
  '<!doctype html><html><body><div id="root"></div><script src="/ui/assets/index-abc123.js"></script></body></html>';

beforeAll(async () => {
  testDb = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'sagaflow-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.info("console");');
  app = buildTestApp(testDb.db, {}, { SAGAFLOW_CONSOLE_DIR: dir });
  unbuilt = buildTestApp(testDb.db, {}, { SAGAFLOW_CONSOLE_DIR: join(dir, 'missing') });
  await Promise.all([app.ready(), unbuilt.ready()]);
});

afterAll(async () => {
  await Promise.all([app?.close(), unbuilt?.close()]);
  await testDb?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('/ui', () => {
  it('serves index.html at /ui/ (and redirects /ui there) with a strict CSP and no caching', async () => {
    const redirect = await app.inject({ method: 'GET', url: '/ui' });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('/ui/');
    const index = await app.inject({ method: 'GET', url: '/ui/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.body).toBe(INDEX);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves hashed assets as immutable, and index.html for the console routes (shareable links)', async () => {
    const asset = await app.inject({ method: 'GET', url: '/ui/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const url of ['/ui/runs', '/ui/runs/01939d2c-0000-7000-8000-000000000000', '/ui/runs?status=FAILED']) {
      const page = await app.inject({ method: 'GET', url });
      expect({ url, status: page.statusCode }).toEqual({ url, status: 200 });
      expect(page.body).toBe(INDEX);
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    }
    // /v1 and the rest are not the console's
    expect((await app.inject({ method: 'GET', url: '/uix' })).statusCode).toBe(404);
  });

  it('not built: 503 SERVICE_UNAVAILABLE saying to run pnpm build', async () => {
    const response = await unbuilt.inject({ method: 'GET', url: '/ui/runs' });
    expect(response.statusCode).toBe(503);
    expect(json(response)).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringContaining('pnpm build'),
    });
    expect((await unbuilt.inject({ method: 'GET', url: '/ui/' })).statusCode).toBe(503);
  });
});
