import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor, waitForHttp } from '../src/index.js';

describe('waitFor', () => {
  it('returns the first value that is neither undefined nor false', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('accepts async checks and treats false as not yet', async () => {
    let calls = 0;
    await expect(waitFor(async () => ++calls > 2 && 'done', { intervalMs: 1 })).resolves.toBe('done');
  });

  it('names the description and the last error on timeout', async () => {
    const attempt = waitFor(
      () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 50, intervalMs: 5, description: 'the run to complete' },
    );
    await expect(attempt).rejects.toThrow(
      'Timed out after 50 ms waiting for the run to complete (last error: connection refused)',
    );
  });

  it('fails within its bound', async () => {
    const started = Date.now();
    await expect(waitFor(() => false, { timeoutMs: 100, intervalMs: 10 })).rejects.toThrow(/waiting for condition$/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('waitForHttp', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('waits until the endpoint answers 2xx', async () => {
    let requests = 0;
    server = createServer((_req, res) => {
      res.statusCode = ++requests < 3 ? 503 : 200;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const response = await waitForHttp(`http://127.0.0.1:${port}/health`, 5_000);
    expect(response.status).toBe(200);
    expect(requests).toBe(3);
  });

  it('reports the last failure on timeout', async () => {
    await expect(waitForHttp('http://127.0.0.1:9/health', 200)).rejects.toThrow(/GET http:\/\/127\.0\.0\.1:9\/health/);
  });
});
