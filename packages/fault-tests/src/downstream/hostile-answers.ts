import type { Random } from '../random.js';

/**
 * The answers a hostile downstream gives (docs/contract.md#downstream-requests), as raw HTTP/1.1 bytes, each with what SagaFlow must make of it.
 * Pure apart from `random`.
 *
 * - `effect`: a 2xx the service means — the effect is applied, and `stored` is the step output docs/contract.md#downstream-requests promises
 *   (JSON when storable, else the text with NUL and lone surrogates replaced by U+FFFD; invalid UTF-8 reads as U+FFFD).
 * - `lost`: a 2xx whose response never arrives whole (a body that never ends, headers of hundreds of KiB): the effect
 *   is applied, the attempt times out or fails as a connection error, and the retry is answered from the dedup store.
 * - `unavailable`: a 5xx from in front of the service (retryable; no effect).
 * - `refused`: an answer SagaFlow must fail permanently (a 1xx with no final answer, a status of 600–999); no effect.
 */
export type HostileKind = 'effect' | 'lost' | 'unavailable' | 'refused';

export interface HostileAnswer {
  name: string;
  kind: HostileKind;
  bytes: Buffer;
  /** after writing: `keep-alive` (the next request may come on it), `close`, or `open` (the body never ends) */
  connection: 'keep-alive' | 'close' | 'open';
  /** `effect`: the output SagaFlow must store */
  stored?: unknown;
}

const FFFD = '\uFFFD';
const HUGE_VALUE = Buffer.alloc(600 * 1024, 'h');

/** A complete response with content-length (keep-alive: a new connection per request is slow on a busy machine). */
export function rawResponse(status: number, body: Buffer | string, headers: Record<string, string> = {}): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const lines = [`HTTP/1.1 ${status} Hostile`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  lines.push(`content-length: ${payload.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** A plain, storable 2xx answer: what the dedup store replays, and what a healthy service says. */
export function normalAnswer(key: string, seq: number): HostileAnswer {
  const stored = { ok: true, key, effectSeq: seq };
  const bytes = rawResponse(200, JSON.stringify(stored), JSON_TYPE);
  return { name: 'ok', kind: 'effect', bytes, stored, connection: 'keep-alive' };
}

function randomBytes(random: Random, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => random.int(0, 255)));
}

/** Every hostile case by name; `normal` and `unavailable` are the healthy answers mixed in. */
export const HOSTILE_CASES = [
  'ok',
  'unavailable',
  'unavailable-binary',
  'nul-escape-json',
  'nul-bytes-text',
  'binary',
  'invalid-utf8-json',
  'lone-surrogate-json',
  'informational-only',
  'status-600-999',
  'endless-body',
  'huge-headers',
] as const;
export type HostileCase = (typeof HOSTILE_CASES)[number];

/** The answer of one case for a request with `key` (seq: its arrival order). */
export function hostileAnswer(name: HostileCase, key: string, seq: number, random: Random): HostileAnswer {
  const tag = `${key}#${seq}`;
  switch (name) {
    case 'ok':
      return normalAnswer(key, seq);
    case 'unavailable':
      return {
        name,
        kind: 'unavailable',
        bytes: rawResponse(random.pick([500, 502, 503]), '{"error":"down"}'),
        connection: 'keep-alive',
      };
    case 'unavailable-binary':
      return {
        name,
        kind: 'unavailable',
        bytes: rawResponse(503, randomBytes(random, 300), JSON_TYPE),
        connection: 'keep-alive',
      };
    case 'nul-escape-json': {
      const body = JSON.stringify({ tag, note: 'a\u0000b' });
      return { name, kind: 'effect', bytes: rawResponse(200, body, JSON_TYPE), stored: body, connection: 'keep-alive' };
    }
    case 'nul-bytes-text':
      return {
        name,
        kind: 'effect',
        bytes: rawResponse(200, `${tag}\u0000x\u0000`, { 'content-type': 'text/plain' }),
        stored: `${tag}${FFFD}x${FFFD}`,
        connection: 'keep-alive',
      };
    case 'binary': {
      const bytes = Buffer.concat([Buffer.from(tag), randomBytes(random, random.int(1, 2048))]);
      // decoding invalid UTF-8 yields U+FFFD; the NUL characters that remain are replaced too
      const stored = bytes.toString('utf8').replaceAll('\u0000', FFFD);
      const response = rawResponse(200, bytes, { 'content-type': 'application/octet-stream' });
      return { name, kind: 'effect', bytes: response, stored, connection: 'keep-alive' };
    }
    case 'invalid-utf8-json': {
      const body = Buffer.concat([
        Buffer.from(`{"tag":"${tag}","v":"`),
        Buffer.from([0xff, 0xc0, 0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]);
      const stored = { tag, v: FFFD.repeat(5) };
      return { name, kind: 'effect', bytes: rawResponse(200, body, JSON_TYPE), stored, connection: 'keep-alive' };
    }
    case 'lone-surrogate-json': {
      const body = `{"tag":"${tag}","v":"\\ud800","\\udfffk":1}`;
      return { name, kind: 'effect', bytes: rawResponse(200, body, JSON_TYPE), stored: body, connection: 'keep-alive' };
    }
    case 'informational-only': {
      const status = random.int(100, 199);
      const bytes = Buffer.from(`HTTP/1.1 ${status} Informational\r\n\r\n`, 'latin1');
      return { name, kind: 'refused', bytes, connection: 'close' };
    }
    case 'status-600-999': {
      const bytes = rawResponse(random.int(600, 999), '{"weird":true}', JSON_TYPE);
      return { name, kind: 'refused', bytes, connection: 'keep-alive' };
    }
    case 'endless-body':
      return {
        name,
        kind: 'lost',
        bytes: Buffer.from(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1\r\n[\r\n`,
        ),
        connection: 'open',
      };
    case 'huge-headers': {
      const huge = HUGE_VALUE.subarray(0, random.int(200, 600) * 1024).toString('latin1');
      return {
        name,
        kind: 'lost',
        bytes: rawResponse(200, '{}', { 'x-huge': huge, ...JSON_TYPE }),
        connection: 'close',
      };
    }
  }
}
