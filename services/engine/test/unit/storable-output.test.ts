import { findUnstorableJson, MAX_JSON_DEPTH } from '@sagaflow/db';
import { describe, expect, it } from 'vitest';
import { storableOutput } from '../../src/storable-output.js';

const json = { truncated: false, contentType: 'application/json' };
const text = { truncated: false, contentType: 'text/plain' };
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Every output must be something Postgres jsonb takes: no NUL, no lone surrogate, bounded depth. */
function expectStorable(value: unknown): void {
  expect(findUnstorableJson(value)).toBeUndefined();
}

describe('storableOutput: a downstream body as a step output that always commits (docs/contract.md#downstream-requests)', () => {
  it('keeps JSON that Postgres can store as parsed JSON', () => {
    expect(storableOutput(utf8('{"a":[1,"x",null,true],"é":"😀"}'), json)).toEqual({
      a: [1, 'x', null, true],
      é: '😀',
    });
    expect(storableOutput(utf8('"just a string"'), json)).toBe('just a string');
    expect(storableOutput(utf8('42'), { truncated: false, contentType: undefined })).toBe(42);
  });

  it('an empty body is null', () => {
    expect(storableOutput(Buffer.alloc(0), json)).toBeNull();
    expect(storableOutput(Buffer.alloc(0), text)).toBeNull();
  });

  it('a non-JSON content type, a truncated body or text that is not JSON stays text', () => {
    expect(storableOutput(utf8('{"a":1}'), text)).toBe('{"a":1}');
    expect(storableOutput(utf8('{"a":1}'), { truncated: true, contentType: 'application/json' })).toBe('{"a":1}');
    expect(storableOutput(utf8('not json'), json)).toBe('not json');
  });

  it.each([
    ['NUL escape in a value', '{"a":"x\\u0000y"}'],
    ['NUL escape in a key', '{"k\\u0000":1}'],
    ['NUL escape at the top', '"\\u0000"'],
    ['lone high surrogate', '{"s":"\\ud800"}'],
    ['lone low surrogate', '{"s":"\\udfff"}'],
    ['high surrogate at the end of a string', '["ab\\udbff"]'],
    ['low surrogate at the start of a string', '["\\udc00ab"]'],
    ['reversed pair', '["\\udc00\\ud800"]'],
    ['lone surrogate in a key', '{"\\ud83dx":true}'],
  ])('JSON whose parsed value jsonb refuses (%s) is stored as its text, which is storable', (_name, body) => {
    const output = storableOutput(utf8(body), json);
    expect(output).toBe(body);
    expectStorable(output);
  });

  it('a valid surrogate pair escaped in JSON stays JSON', () => {
    expect(storableOutput(utf8('{"s":"\\ud83d\\ude00"}'), json)).toEqual({ s: '😀' });
  });

  it('raw NUL bytes are replaced by U+FFFD, in text and in (then invalid) JSON', () => {
    expect(storableOutput(utf8('a\u0000b\u0000'), text)).toBe('a\uFFFDb\uFFFD');
    expect(storableOutput(utf8('{"a":"x\u0000"}'), json)).toBe('{"a":"x\uFFFD"}');
    expect(storableOutput(utf8('\u0000'), { truncated: false, contentType: undefined })).toBe('\uFFFD');
  });

  it('invalid UTF-8 is decoded as U+FFFD: still JSON when the rest is', () => {
    const body = Buffer.concat([utf8('{"s":"'), Buffer.from([0xff, 0xc3, 0xed, 0xa0, 0x80]), utf8('"}')]);
    const output = storableOutput(body, json) as { s: string };
    expect(output.s).toMatch(/^\uFFFD+$/);
    // an encoded surrogate (ED A0 80) is invalid UTF-8 too: never a lone surrogate in the string
    expectStorable(output);
  });

  it('arbitrary binary becomes storable text', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const output = storableOutput(all, { truncated: false, contentType: 'application/octet-stream' });
    expect(typeof output).toBe('string');
    expectStorable(output);
    expect(output).toBe(all.toString('utf8').replace('\u0000', '\uFFFD'));
    for (let seed = 1; seed <= 50; seed++) {
      const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919 * seed + seed) % 256));
      expectStorable(storableOutput(bytes, json));
      expectStorable(storableOutput(bytes, { truncated: true, contentType: undefined }));
    }
  });

  it('a multi-byte character cut by the cap is U+FFFD, not a broken string', () => {
    const cut = utf8('ab😀').subarray(0, 4);
    expect(storableOutput(cut, { truncated: true, contentType: 'text/plain' })).toBe('ab\uFFFD');
  });

  it('JSON nested deeper than MAX_JSON_DEPTH is stored as its text; at the limit it stays JSON', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(storableOutput(utf8(deep), json)).toBe(deep);
    const atLimit = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(storableOutput(utf8(atLimit), json)).toEqual(JSON.parse(atLimit));
  });

  it('a huge body (256 KiB of NULs and surrogate halves) is storable text of the same length', () => {
    const huge = Buffer.alloc(256 * 1024, 0);
    const output = storableOutput(huge, { truncated: true, contentType: 'application/json' }) as string;
    expect(output.length).toBe(256 * 1024);
    expectStorable(output);
    const surrogates = utf8('"' + '\\ud800'.repeat(40_000) + '"');
    const asText = storableOutput(surrogates, json);
    expect(asText).toBe(surrogates.toString('utf8'));
  });

  it('a number JavaScript cannot hold keeps the body as text (it was stored as null inside the JSON)', () => {
    const body = utf8('{"total":1e400}');
    expect(storableOutput(body, json)).toBe('{"total":1e400}');
  });
});
