import { describe, expect, it } from 'vitest';
import { findUnstorableJson, MAX_JSON_DEPTH, storableText } from '../src/storable-json.js';

describe('storableText', () => {
  it.each([
    ['plain text', 'hello', 'hello'],
    ['empty', '', ''],
    ['NUL', 'a\u0000b\u0000', 'a\uFFFDb\uFFFD'],
    ['lone high surrogate', 'a\uD800b', 'a\uFFFDb'],
    ['lone high surrogate at the end', 'ab\uDBFF', 'ab\uFFFD'],
    ['lone low surrogate', '\uDC00ab', '\uFFFDab'],
    ['reversed pair', '\uDC00\uD800', '\uFFFD\uFFFD'],
    ['two high surrogates then a low one', '\uD800\uD800\uDC00', '\uFFFD\uD800\uDC00'],
    ['a valid pair is kept', 'x😀y', 'x😀y'],
    ['U+FFFD itself is kept', '\uFFFD', '\uFFFD'],
  ])('%s', (_name, input, expected) => {
    expect(storableText(input)).toBe(expected);
    expect(findUnstorableJson(storableText(input))).toBeUndefined();
  });

  it('returns the same string when nothing needs replacing (no copy of a large clean text)', () => {
    const big = 'x'.repeat(300_000);
    expect(storableText(big)).toBe(big);
  });
});

describe('findUnstorableJson', () => {
  it('names NUL, lone surrogates (values and keys) and excess depth', () => {
    expect(findUnstorableJson({ a: 'x\u0000' })).toMatch(/NUL/);
    expect(findUnstorableJson(['\uD800'])).toMatch(/surrogate/);
    expect(findUnstorableJson({ ['k\uDC00']: 1 })).toMatch(/^keys .*surrogate/);
    const deep = JSON.parse('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)) as unknown;
    expect(findUnstorableJson(deep)).toMatch(/deeper than 100/);
  });

  it('names a number JavaScript cannot hold (JSON.parse reads 1e400 as Infinity, stored as null)', () => {
    expect(findUnstorableJson(JSON.parse('{"x":[1e400]}'))).toMatch(/beyond the range of a double/);
    expect(findUnstorableJson(JSON.parse('{"x":-1e400}'))).toMatch(/beyond the range of a double/);
    expect(findUnstorableJson({ x: Number.MAX_VALUE, y: 5e-324 })).toBeUndefined();
  });

  it('accepts what jsonb stores', () => {
    expect(findUnstorableJson({ a: [1, 'é😀', null, { b: true }] })).toBeUndefined();
    expect(findUnstorableJson(JSON.parse('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)))).toBeUndefined();
  });
});
