/**
 * What Postgres can store in a jsonb (or text) column. jsonb refuses the NUL character (`\u0000`) and lone UTF-16
 * surrogates; deep nesting is refused here because recursive code (JSON.stringify, Postgres' parser) must not blow
 * the stack; a number JavaScript cannot hold (1e400, parsed as Infinity) would be written as null. Pure.
 */

/** Deeper JSON is refused: real payloads never need it, and recursive code must not blow the stack. */
export const MAX_JSON_DEPTH = 100;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

function badString(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'must not contain a lone UTF-16 surrogate (invalid Unicode)';
  return undefined;
}

/**
 * Why Postgres jsonb (or our own recursive code) could not take this value: a NUL character, a lone surrogate,
 * or nesting deeper than MAX_JSON_DEPTH — checked iteratively, so any depth is safe to inspect. undefined when fine.
 */
export function findUnstorableJson(value: unknown): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item === 'string') {
      const problem = badString(item);
      if (problem) return problem;
    } else if (typeof item === 'number' && !Number.isFinite(item)) {
      // JSON.parse reads 1e400 as Infinity, which JSON.stringify would store as null
      return 'must not hold a number beyond the range of a double (such as 1e400)';
    } else if (item !== null && typeof item === 'object') {
      if (depth >= MAX_JSON_DEPTH) return `must not nest deeper than ${MAX_JSON_DEPTH} levels`;
      for (const [key, child] of Array.isArray(item) ? item.entries() : Object.entries(item)) {
        if (typeof key === 'string') {
          const problem = badString(key);
          if (problem) return `keys ${problem}`;
        }
        stack.push([child, depth + 1]);
      }
    }
  }
  return undefined;
}

/** The text with every NUL character and every lone surrogate replaced by U+FFFD: storable as text and in jsonb. */
export function storableText(text: string): string {
  if (!badString(text)) return text;
  return text.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATES, '\uFFFD');
}
