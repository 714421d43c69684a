/** `{{ path }}` anywhere in a string; the path holds no braces. */
const TEMPLATE_PATTERN = /\{\{([^{}]*)\}\}/g;
/** The same, for a yes/no test (a global pattern's test() would carry lastIndex from call to call). */
const ANY_TEMPLATE_PATTERN = new RegExp(TEMPLATE_PATTERN.source);
/** A string that is exactly one template (whitespace inside the braces allowed). */
const WHOLE_TEMPLATE_PATTERN = /^\{\{([^{}]*)\}\}$/;

/** One template found in a string value. */
export interface TemplateMatch {
  /** The template as written, braces included, e.g. `{{ input.orderId }}`. */
  raw: string;
  /** The trimmed path between the braces, e.g. `input.orderId`. */
  path: string;
}

/** One template found inside a JSON value, with where it sits. */
export interface TemplateReference extends TemplateMatch {
  location: (string | number)[];
}

/** The path when the whole string is one template, undefined otherwise. */
export function matchWholeTemplate(text: string): string | undefined {
  const match = WHOLE_TEMPLATE_PATTERN.exec(text);
  return match ? (match[1] ?? '').trim() : undefined;
}

/** True when `text` holds at least one template. */
export function hasTemplate(text: string): boolean {
  return ANY_TEMPLATE_PATTERN.test(text);
}

export function findTemplates(text: string): TemplateMatch[] {
  return [...text.matchAll(TEMPLATE_PATTERN)].map((match) => ({ raw: match[0], path: (match[1] ?? '').trim() }));
}

/** Replaces each template in `text` with the string `replace` returns for its path. */
export function replaceTemplates(text: string, replace: (path: string, raw: string) => string): string {
  return text.replace(TEMPLATE_PATTERN, (raw: string, inner: string) => replace(inner.trim(), raw));
}

/** Every template in the string values of a JSON value (object keys are never templates), depth first. */
export function collectTemplateReferences(value: unknown, location: (string | number)[] = []): TemplateReference[] {
  if (typeof value === 'string') return findTemplates(value).map((match) => ({ ...match, location }));
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => collectTemplateReferences(item, [...location, index]));
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => collectTemplateReferences(item, [...location, key]));
  }
  return [];
}

/** A piece of a string: literal text, or one template. */
export type TemplatePiece = { literal: string } | TemplateMatch;

/** `text` cut into literal text and templates, in order (empty literals left out). */
export function splitTemplates(text: string): TemplatePiece[] {
  const pieces: TemplatePiece[] = [];
  let at = 0;
  for (const match of text.matchAll(TEMPLATE_PATTERN)) {
    if (match.index > at) pieces.push({ literal: text.slice(at, match.index) });
    pieces.push({ raw: match[0], path: (match[1] ?? '').trim() });
    at = match.index + match[0].length;
  }
  if (at < text.length) pieces.push({ literal: text.slice(at) });
  return pieces;
}
