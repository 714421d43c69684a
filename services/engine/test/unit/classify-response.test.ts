import { describe, expect, it } from 'vitest';
import {
  classifyResponse,
  parseRetryAfter,
  recordableStatus,
  type AttemptClass,
  type AttemptEnd,
} from '../../src/classify-response.js';

describe('classifyResponse (docs/contract.md#attempt-outcomes)', () => {
  const cases: Array<[string, AttemptEnd, AttemptClass]> = [
    ['200', { type: 'response', status: 200 }, 'success'],
    ['204', { type: 'response', status: 204 }, 'success'],
    ['299', { type: 'response', status: 299 }, 'success'],
    ['300', { type: 'response', status: 300 }, 'permanent'],
    ['400', { type: 'response', status: 400 }, 'permanent'],
    ['404', { type: 'response', status: 404 }, 'permanent'],
    ['408', { type: 'response', status: 408 }, 'retryable'],
    ['409', { type: 'response', status: 409 }, 'permanent'],
    ['422', { type: 'response', status: 422 }, 'permanent'],
    ['425', { type: 'response', status: 425 }, 'retryable'],
    ['429', { type: 'response', status: 429 }, 'retryable'],
    ['500', { type: 'response', status: 500 }, 'retryable'],
    ['503', { type: 'response', status: 503 }, 'retryable'],
    ['599', { type: 'response', status: 599 }, 'retryable'],
    ['timeout', { type: 'timeout' }, 'retryable'],
    ['connection error', { type: 'connection-error' }, 'retryable'],
    ['600', { type: 'response', status: 600 }, 'permanent'],
    ['999', { type: 'response', status: 999 }, 'permanent'],
    ['1xx and nothing else', { type: 'no-final-response', informational: 199 }, 'permanent'],
    ['100/101 refused by undici', { type: 'no-final-response' }, 'permanent'],
  ];

  it.each(cases)('%s is %s', (_name, end, expected) => {
    expect(classifyResponse(end)).toBe(expected);
  });

  it('1xx and other 3xx/4xx codes are permanent', () => {
    for (const status of [101, 301, 304, 401, 403, 405, 410, 413, 451, 499]) {
      expect(classifyResponse({ type: 'response', status }), String(status)).toBe('permanent');
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');

  it('reads delta seconds', () => {
    expect(parseRetryAfter('1', now)).toBe(1_000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:59:00 GMT', now)).toBe(0);
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['2', '9'], now)).toBe(2_000);
  });

  it.each([[undefined], [''], ['   '], ['soon'], ['-1'], ['1.5'], ['12abc'], [[]]] as Array<
    [string | string[] | undefined]
  >)('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('recordableStatus: what step_attempts.http_status (100–599) can hold', () => {
  it.each([
    [{ type: 'response', status: 100 }, 100],
    [{ type: 'response', status: 200 }, 200],
    [{ type: 'response', status: 599 }, 599],
    [{ type: 'response', status: 600 }, null],
    [{ type: 'response', status: 999 }, null],
    [{ type: 'response', status: 99 }, null],
    [{ type: 'response', status: 0 }, null],
    [{ type: 'no-final-response', informational: 103 }, null],
    [{ type: 'timeout' }, null],
    [{ type: 'connection-error' }, null],
  ] satisfies Array<[AttemptEnd, number | null]>)('%j → %s', (end, expected) => {
    expect(recordableStatus(end)).toBe(expected);
  });
});
