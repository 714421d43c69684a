import fc from 'fast-check';

/**
 * Hostile JSON: values and raw body texts that stress a JSON API — unicode of every plane, NUL, lone surrogates
 * (valid JSON escapes Postgres cannot store), prototype-pollution keys, numbers at the edges of a double,
 * deep nesting, huge strings, and text that is not JSON at all.
 */

export const DANGEROUS_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  '\u0000',
  '$where',
  '..',
] as const;

/** Strings from every corner: any code point, NUL, lone surrogates, bidi overrides, template look-alikes. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udfffy',
      '\udc00\ud800',
      '\u202e\u2066',
      '\ufeff',
      '𝕳𝖊𝖑𝖑𝖔',
      '{{input.x}}',
      '{{steps.__proto__.output}}',
      '../../etc/passwd',
      '%00',
      "'; drop table workflow_runs; --",
      '<script>alert(1)</script>',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'é'.repeat(n)) },
);

/** Numbers at the edges of what JSON and a double can say. */
export const edgeNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 31,
    -(2 ** 31) - 1,
    1e21,
    0.1 + 0.2,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...DANGEROUS_KEYS) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);

/** Any JSON value built from the hostile parts, a few levels deep. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    edgeNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** JSON text that is not valid JSON, or JSON a strict parser should refuse to turn into objects. */
export const brokenJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{',
    '{"input":',
    '{"input":{}',
    "{'input':{}}",
    '{"input":{},}',
    '{"input":NaN}',
    '{"input":Infinity}',
    '{"input":{"n":1e400}}',
    '{"input":{"n":-1e400}}',
    '{"input":{"n":1e-400}}',
    '{"input":{"n":123456789012345678901234567890}}',
    '{"input":{"s":"\\ud800"}}',
    '{"input":{"s":"\\u0000"}}',
    '{"input":{},"input":[]}',
    '{"__proto__":{"polluted":true},"input":{}}',
    '{"input":{"__proto__":{"polluted":true}}}',
    '{"constructor":{"prototype":{"polluted":true}},"input":{}}',
    '{"input":{"constructor":{"prototype":{"polluted":true}}}}',
    'null',
    'true',
    '"input"',
    '[]',
    '\u0000',
    '\ufeff{"input":{}}',
    '{"input":{}}garbage',
    '{"input":{}} {"input":{}}',
  ),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

/** Deeply nested arrays or objects (up to 100,000 levels) wrapped as a start body. */
export const deepNesting: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 50, max: 100_000 }), fc.boolean())
  .map(([depth, arrays]) => {
    const inner = arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return `{"input":{"deep":${inner}}}`;
  });

/** A JSON object with hostile keys and values (what `input` and `context` must be). */
export const hostileObject: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(hostileKey, hostileValue, {
  maxKeys: 5,
});
