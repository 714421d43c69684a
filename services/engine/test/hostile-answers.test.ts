import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHarness, type EngineHarness } from './helpers/harness.js';
import { rawResponse, startRawDownstream, type RawAnswer, type RawDownstream } from './helpers/raw-downstream.js';

/**
 * docs/contract.md#downstream-requests: whatever a downstream answers, the attempt gets exactly one recorded outcome and the item is never
 * redelivered because of what came back. A short lease and a low delivery bound make a completion that cannot
 * commit show up quickly as a second request and a parked DELIVERY_EXHAUSTED item.
 */

let h: EngineHarness;
let raw: RawDownstream;
beforeAll(async () => {
  h = await createEngineHarness({ engine: { leaseMs: 2_000, maxDeliveries: 2 } });
  raw = await startRawDownstream();
});
afterAll(async () => {
  await raw?.close();
  await h?.close();
});

const json = { 'content-type': 'application/json' };
const text = { 'content-type': 'text/plain' };
const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

interface HostileCase {
  name: string;
  answer: RawAnswer;
  status: 'COMPLETED' | 'FAILED';
  /** attempt outcomes in order, with the status recorded for each */
  attempts: Array<[string, number | null]>;
  /** the step's output (COMPLETED) */
  output?: unknown;
  /** what the step's error says (FAILED) */
  error?: Record<string, unknown>;
}

const cases: HostileCase[] = [
  {
    name: 'nul-escape-in-json',
    answer: { bytes: rawResponse(200, '{"note":"a\\u0000b"}', json) },
    status: 'COMPLETED',
    attempts: [['SUCCEEDED', 200]],
    output: '{"note":"a\\u0000b"}',
  },
  {
    name: 'nul-byte-in-text',
    answer: { bytes: rawResponse(200, Buffer.from('a\u0000b'), text) },
    status: 'COMPLETED',
    attempts: [['SUCCEEDED', 200]],
    output: 'a\uFFFDb',
  },
  {
    name: 'nul-byte-in-json',
    answer: { bytes: rawResponse(200, Buffer.from('{"a":"x\u0000y"}'), json) },
    status: 'COMPLETED',
    attempts: [['SUCCEEDED', 200]],
    output: '{"a":"x\uFFFDy"}',
  },
  {
    name: 'lone-surrogate-value',
    answer: { bytes: rawResponse(200, '{"s":"\\ud800"}', json) },
    status: 'COMPLETED',
    attempts: [['SUCCEEDED', 200]],
    output: '{"s":"\\ud800"}',
  },
  {
    name: 'lone-surrogate-key',
    answer: { bytes: rawResponse(200, '{"\\udc00x":1}', json) },
    status: 'COMPLETED',
    attempts: [['SUCCEEDED', 200]],
    output: '{"\\udc00x":1}',
  },
  {
    name: 'invalid-utf8',
    answer: {
      bytes: rawResponse(200, Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0xc3, 0x22, 0x7d]), json),
    },
    status: 'COMPLETED',
    attempts: [['SUCCEEDED', 200]],
    output: { s: '\uFFFD\uFFFD' },
  },
  {
    name: 'binary',
    answer: { bytes: rawResponse(200, allBytes, { 'content-type': 'application/octet-stream' }) },
    status: 'COMPLETED',
    attempts: [['SUCCEEDED', 200]],
    output: allBytes.toString('utf8').replace('\u0000', '\uFFFD'),
  },
  {
    name: 'status-600',
    answer: { bytes: rawResponse(600, '{}', json) },
    status: 'FAILED',
    attempts: [['FAILED', null]],
    error: { lastErrorCode: 'HTTP_ERROR', status: 600, message: expect.stringContaining('600') },
  },
  {
    name: 'status-999',
    answer: { bytes: rawResponse(999, Buffer.from('x\u0000'), text) },
    status: 'FAILED',
    attempts: [['FAILED', null]],
    error: { lastErrorCode: 'HTTP_ERROR', status: 999, response: 'x\uFFFD' },
  },
  {
    name: 'informational-199-only',
    answer: { bytes: 'HTTP/1.1 199 Thinking\r\n\r\n' },
    status: 'FAILED',
    attempts: [['FAILED', null]],
    error: { lastErrorCode: 'NO_FINAL_RESPONSE', message: expect.stringContaining('199') },
  },
  {
    name: 'continue-100-only',
    answer: { bytes: 'HTTP/1.1 100 Continue\r\n\r\n' },
    status: 'FAILED',
    attempts: [['FAILED', null]],
    error: { lastErrorCode: 'NO_FINAL_RESPONSE' },
  },
  {
    name: 'server-error-with-nul',
    answer: { bytes: rawResponse(503, Buffer.from('down\u0000'), text) },
    status: 'FAILED',
    attempts: [
      ['RETRYABLE', 503],
      ['FAILED', 503],
    ],
    error: { lastErrorCode: 'HTTP_ERROR', httpStatus: 503, response: 'down\uFFFD' },
  },
  {
    name: 'server-error-long-body-cut-inside-a-surrogate-pair',
    answer: { bytes: rawResponse(500, `${'x'.repeat(2047)}😀 and more`, text) },
    status: 'FAILED',
    attempts: [
      ['RETRYABLE', 500],
      ['FAILED', 500],
    ],
    error: { lastErrorCode: 'HTTP_ERROR', httpStatus: 500, response: `${'x'.repeat(2047)}\uFFFD…` },
  },
  {
    name: 'endless-body',
    answer: {
      bytes: 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{"\r\n',
      keepOpen: true,
    },
    status: 'FAILED',
    attempts: [
      ['RETRYABLE', null],
      ['FAILED', null],
    ],
    error: { lastErrorCode: 'TIMEOUT' },
  },
  {
    name: 'huge-headers',
    answer: { bytes: rawResponse(200, '{}', { 'x-huge': 'h'.repeat(300 * 1024), ...json }) },
    status: 'FAILED',
    attempts: [
      ['RETRYABLE', null],
      ['FAILED', null],
    ],
    error: { lastErrorCode: 'CONNECTION_ERROR' },
  },
];

describe('hostile downstream answers', () => {
  it.each(cases)('$name: one recorded outcome per attempt, one request per attempt, never parked', async (c) => {
    const path = `/${c.name}`;
    raw.answer(path, c.answer);
    const saga = await h.defineSaga(`hostile-${c.name}`, [{ id: 'a', request: { url: raw.urlFor(path) } }], {
      retry: { maxAttempts: 2, initialIntervalMs: 10, backoffCoefficient: 1, jitter: 'none' },
      timeoutMs: 400,
    });
    const runId = await saga.start();
    const view = await h.waitTerminal(runId);

    expect(raw.requests(path).map((r) => r.attempt)).toEqual(c.attempts.map((_, i) => i + 1));
    expect(view.run.status).toBe(c.status);
    expect(view.run.error?.code ?? null).toBe(c.status === 'FAILED' ? 'STEP_FAILED' : null);
    const attempts = await h.attempts(runId);
    expect(attempts.map((a) => [a.outcome, a.http_status])).toEqual(c.attempts);
    const step = view.steps[0]!;
    if (c.output !== undefined) expect(step.output).toEqual(c.output);
    if (c.error) expect(step.error).toMatchObject(c.error);
    expect(await h.outbox(runId)).toEqual([]);
    expect(h.logs().filter((l) => l['runId'] === runId && l['msg'] === 'completion failed; retrying')).toEqual([]);
  });
});
