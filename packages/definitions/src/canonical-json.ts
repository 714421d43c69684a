import { createHash } from 'node:crypto';
import type { WorkflowDefinition } from './schema.js';

function hasToJson(value: object): value is { toJSON: () => unknown } {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

function isOmitted(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/**
 * JSON text with object keys sorted recursively (by UTF-16 code units) and no whitespace, so two documents
 * that differ only in key order produce the same text. Follows JSON.stringify otherwise: undefined,
 * functions and symbols are dropped from objects and become null in arrays; non-finite numbers become null.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return isOmitted(value) ? 'null' : JSON.stringify(value);
  }
  if (hasToJson(value)) return canonicalJson(value.toJSON());
  if (Array.isArray(value)) {
    return `[${value.map((item) => (isOmitted(item) ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  const entries = Object.keys(value)
    .sort()
    .filter((key) => !isOmitted((value as Record<string, unknown>)[key]))
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

/** sha256 (hex) of the definition's canonical JSON: equal for documents that differ only in key order. */
export function definitionChecksum(def: WorkflowDefinition): string {
  return createHash('sha256').update(canonicalJson(def), 'utf8').digest('hex');
}
