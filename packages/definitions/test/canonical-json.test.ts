import { describe, expect, it } from 'vitest';
import { canonicalJson, definitionChecksum, parseWorkflowDefinition, type WorkflowDefinition } from '../src/index.js';
import { buildDefinitionDoc } from './definition-fixture.js';

/** The same value with object keys in reverse insertion order, at every depth. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([key, item]) => [key, reverseKeys(item)]),
    );
  }
  return value;
}

function parseDefinition(doc: unknown): WorkflowDefinition {
  const result = parseWorkflowDefinition(doc);
  if (!result.success) throw new Error(JSON.stringify(result.issues));
  return result.data;
}

describe('canonicalJson', () => {
  it('sorts keys recursively and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('is independent of key order', () => {
    const doc = buildDefinitionDoc();
    expect(canonicalJson(reverseKeys(doc))).toBe(canonicalJson(doc));
  });

  it('sorts integer-like keys as strings too', () => {
    expect(canonicalJson({ b: 1, 10: 2, 2: 3, a: 4 })).toBe('{"10":2,"2":3,"a":4,"b":1}');
  });

  it('keeps array order', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('writes primitives like JSON.stringify', () => {
    for (const value of [null, true, 0, -1.5, 'a"b\\c\n', 'ü'])
      expect(canonicalJson(value)).toBe(JSON.stringify(value));
    expect(canonicalJson(Number.NaN)).toBe('null');
  });

  it('drops undefined members and writes undefined array items as null', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
  });

  it('uses toJSON when present', () => {
    expect(canonicalJson({ at: new Date('2024-01-02T03:04:05.000Z') })).toBe('{"at":"2024-01-02T03:04:05.000Z"}');
  });

  it('round-trips through JSON.parse to the same value', () => {
    const doc = buildDefinitionDoc();
    expect(JSON.parse(canonicalJson(doc))).toEqual(doc);
  });
});

describe('definitionChecksum', () => {
  it('is a sha256 hex digest equal for key-reordered documents', () => {
    const def = parseDefinition(buildDefinitionDoc());
    const reordered = parseDefinition(reverseKeys(buildDefinitionDoc()));
    expect(definitionChecksum(def)).toMatch(/^[0-9a-f]{64}$/);
    expect(definitionChecksum(reordered)).toBe(definitionChecksum(def));
  });

  it('changes when any value changes', () => {
    const def = parseDefinition(buildDefinitionDoc());
    const changed = parseDefinition({ ...buildDefinitionDoc(), description: 'x' });
    expect(definitionChecksum(changed)).not.toBe(definitionChecksum(def));
  });
});
