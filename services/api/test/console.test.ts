import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
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

const ASSET = `${'console.info("console");\n'.repeat(200)}export {};\n`;

beforeAll(async () => {
  testDb = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'sagaflow-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), ASSET);
  // as the console's build leaves them (services/console/vite.config.ts): a .gz and a .br beside each text file
  for (const file of [join(dir, 'index.html'), join(dir, 'assets', 'index-abc123.js')]) {
    writeFileSync(`${file}.gz`, gzipSync(readFileSync(file)));
    writeFileSync(`${file}.br`, brotliCompressSync(readFileSync(file)));
  }
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

  it('sends the precompressed .br/.gz a client accepts (content-encoding, vary), the plain file to one that accepts none', async () => {
    const url = '/ui/assets/index-abc123.js';
    const get = (encoding?: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'GET', url, headers: encoding ? { 'accept-encoding': encoding, ...headers } : headers });

    const gzip = await get('gzip');
    expect(gzip.statusCode).toBe(200);
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers['content-type']).toMatch(/javascript/);
    expect(gzip.headers['vary']).toMatch(/accept-encoding/i);
    expect(gzip.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gzip.headers['content-security-policy']).toContain("script-src 'self'");
    expect(gzip.headers['x-content-type-options']).toBe('nosniff');
    expect(Number(gzip.headers['content-length'])).toBeLessThan(ASSET.length);
    expect(gunzipSync(gzip.rawPayload).toString()).toBe(ASSET);

    const br = await get('br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(ASSET);
    // what browsers send: brotli preferred
    expect((await get('gzip, deflate, br, zstd')).headers['content-encoding']).toBe('br');

    for (const identity of [await get(), await get('identity')]) {
      expect(identity.statusCode).toBe(200);
      expect(identity.headers['content-encoding']).toBeUndefined();
      expect(identity.headers['vary']).toMatch(/accept-encoding/i);
      expect(identity.body).toBe(ASSET);
    }

    // each variant has its own ETag, and a revalidation answers 304
    expect(gzip.headers.etag).toBeDefined();
    expect(gzip.headers.etag).not.toBe(br.headers.etag);
    const revalidated = await get('gzip', { 'if-none-match': String(gzip.headers.etag) });
    expect(revalidated.statusCode).toBe(304);
    expect(revalidated.body).toBe('');

    // the compressed files are not addresses of their own: an unknown path, answered with index.html
    const sibling = await app.inject({ method: 'GET', url: `${url}.gz` });
    expect(sibling.headers['content-type']).toMatch(/^text\/html/);
    expect(sibling.body).toBe(INDEX);
  });

  it('sends index.html compressed at /ui/ and at a deep link, with the same headers', async () => {
    for (const url of ['/ui/', '/ui/runs/01939d2c-0000-7000-8000-000000000000']) {
      const gzip = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip' } });
      expect({ url, status: gzip.statusCode, encoding: gzip.headers['content-encoding'] }).toEqual({
        url,
        status: 200,
        encoding: 'gzip',
      });
      expect(gzip.headers['content-type']).toMatch(/^text\/html/);
      expect(gzip.headers['cache-control']).toBe('no-cache');
      expect(gzip.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(gunzipSync(gzip.rawPayload).toString()).toBe(INDEX);
      const br = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'br' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(br.rawPayload).toString()).toBe(INDEX);
      const plain = await app.inject({ method: 'GET', url });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body).toBe(INDEX);
    }
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
