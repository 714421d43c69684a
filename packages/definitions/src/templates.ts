import { FORBIDDEN_SEGMENTS, parseTemplatePath } from './template-path.js';
import { collectTemplateReferences, matchWholeTemplate, replaceTemplates } from './template-scan.js';

/** What templates may read while rendering one attempt's request. */
export interface TemplateScope {
  input: unknown;
  context: unknown;
  run: { runId: string; workflowName: string; workflowVersion: string };
  steps: Record<string, { output: unknown }>;
}

/** A template that cannot be rendered: unknown root, bad shape, or a path missing from the scope. */
export class TemplateError extends Error {
  readonly code = 'TEMPLATE_ERROR';
  /** The template path (trimmed text between the braces), e.g. `steps.charge-payment.output.chargeId`. */
  readonly path: string;

  constructor(message: string, path: string) {
    super(message);
    this.name = 'TemplateError';
    this.path = path;
  }
}

type Lookup = { found: true; value: unknown } | { found: false };

const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

/** Own data only: never the prototype chain, never __proto__/constructor/prototype, never undefined. */
function readSegment(container: unknown, segment: string): Lookup {
  if (FORBIDDEN_SEGMENTS.has(segment)) return { found: false };
  if (Array.isArray(container)) {
    if (!ARRAY_INDEX.test(segment)) return { found: false };
    const index = Number(segment);
    return index < container.length ? { found: true, value: container[index] } : { found: false };
  }
  if (container === null || typeof container !== 'object' || !Object.hasOwn(container, segment)) {
    return { found: false };
  }
  const value = (container as Record<string, unknown>)[segment];
  return value === undefined ? { found: false } : { found: true, value };
}

function resolvePath(path: string, raw: string, scope: TemplateScope): unknown {
  const parsed = parseTemplatePath(path, raw);
  if (!parsed.ok) throw new TemplateError(parsed.message, path);
  let current: unknown = { input: scope.input, context: scope.context, run: scope.run, steps: scope.steps };
  for (const segment of parsed.segments) {
    const lookup = readSegment(current, segment);
    if (!lookup.found) throw new TemplateError(`template path "${path}" is missing`, path);
    current = lookup.value;
  }
  return current;
}

function toText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The value at a template path as text (strings as-is, other values JSON.stringify'd). @throws TemplateError */
export function renderTemplateText(path: string, raw: string, scope: TemplateScope): string {
  return toText(resolvePath(path, raw, scope));
}

function renderString(text: string, scope: TemplateScope): unknown {
  const wholePath = matchWholeTemplate(text);
  if (wholePath !== undefined) return structuredClone(resolvePath(wholePath, text, scope));
  return replaceTemplates(text, (path, raw) => toText(resolvePath(path, raw, scope)));
}

/**
 * Deep-renders a JSON value. A string that is exactly "{{path}}" (whitespace inside the braces allowed)
 * becomes the value at path with its JSON type kept; "{{path}}" inside other text is interpolated as text
 * (strings as-is, other values JSON.stringify'd). Object keys are never rendered. Returns a new value and
 * never mutates `value` or `scope`.
 * @throws TemplateError naming the path when it is missing or breaks the root rules.
 */
export function renderTemplate(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') return renderString(value, scope);
  if (Array.isArray(value)) return value.map((item) => renderTemplate(item, scope));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a "__proto__" key stays plain data.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderTemplate(item, scope)]));
  }
  return value;
}

/** Every distinct template path (trimmed) used in the string values inside `value`, in order of appearance. */
export function listTemplatePaths(value: unknown): string[] {
  return [...new Set(collectTemplateReferences(value).map((reference) => reference.path))];
}
