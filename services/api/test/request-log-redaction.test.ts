import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { buildApp } from '../src/app.js';
import { testConfig } from './helpers.js';
import { createCapturedApiLogger } from './observability/log-capture.js';

/**
 * The one line each request is logged with keeps its query, but not what the redaction hides: a `?token=` value, and
 * an email inside the run search's `input` filter (SPEC §8). LOG_SENSITIVE=true logs the URL as sent.
 */

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await testDb?.drop();
});

const SEARCH =
  '/v1/runs?status=FAILED&token=querytok999&input=' +
  encodeURIComponent(JSON.stringify({ customer: { email: 'q@x.y' } }));

async function loggedUrl(sensitive: boolean): Promise<string> {
  const { logs, logger } = createCapturedApiLogger();
  const app = buildApp({ db: testDb.db, logger, config: { ...testConfig(), logSensitive: sensitive } });
  try {
    const response = await app.inject({ method: 'GET', url: SEARCH, headers: { 'x-correlation-id': 'log-redaction' } });
    expect(response.statusCode).toBe(200);
    const line = logs.records().find((r) => r.msg === 'request completed' && r['correlationId'] === 'log-redaction');
    return (line?.['req'] as { url: string }).url;
  } finally {
    await app.close();
  }
}

describe('the request line', () => {
  it('redacts query values and JSON filters by key', async () => {
    const url = await loggedUrl(false);
    expect(url).not.toContain('querytok999');
    expect(url).not.toContain('q@x.y');
    const query = new URL(url, 'http://x').searchParams;
    expect(query.get('status')).toBe('FAILED');
    expect(query.get('token')).toBe('[redacted]');
    expect(JSON.parse(query.get('input')!)).toEqual({ customer: { email: '[redacted]' } });
  });

  it('with LOG_SENSITIVE=true is the URL as sent', async () => {
    expect(await loggedUrl(true)).toBe(SEARCH);
  });
});
