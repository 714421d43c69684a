import { hasTemplate, splitTemplates } from './template-scan.js';
import { renderTemplateText, TemplateError, type TemplateScope } from './templates.js';

/** Where in a URL a piece of text lands. */
type UrlPart = 'path' | 'query' | 'fragment';

/** "." and ".." (also as %2e) are dot segments: a URL parser removes them together with the segment before. */
const isDotSegment = (segment: string): boolean => /^(\.|%2e){1,2}$/i.test(segment);

function encodeComponent(value: string, path: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    // a lone surrogate has no UTF-8 form
    throw new TemplateError(`template "${path}" renders text that is not valid Unicode`, path);
  }
}

/**
 * Renders the templates in a step's `path` or `url` (docs/contract.md#security): every value is percent-encoded as one URI component
 * (encodeURIComponent), so it can neither add path segments, a query, parameters or a fragment, nor escape to
 * another path; the literal text the admin registered is kept as written. A path segment made by a template that
 * renders to "." or ".." (which a URL parser would resolve) is refused.
 * @throws TemplateError naming the path when a value is missing or would be a dot segment.
 */
export function renderUrlTemplate(template: string, scope: TemplateScope): string {
  // literal text only (most step URLs): kept as written, without the walk below (its allocations are per attempt)
  if (!hasTemplate(template)) return template;
  let part: UrlPart = 'path';
  let out = '';
  // the path segment being written, and whether a template value is in it
  let segment = '';
  let segmentTemplated: string | undefined;
  const endSegment = (): void => {
    if (segmentTemplated !== undefined && isDotSegment(segment)) {
      throw new TemplateError(
        `template "${segmentTemplated}" renders a "${segment}" path segment, which is not allowed`,
        segmentTemplated,
      );
    }
    segment = '';
    segmentTemplated = undefined;
  };
  for (const piece of splitTemplates(template)) {
    if ('literal' in piece) {
      for (const char of piece.literal) {
        if (part === 'path' && (char === '/' || char === '?' || char === '#')) endSegment();
        if (part === 'path' && char === '?') part = 'query';
        else if (part !== 'fragment' && char === '#') part = 'fragment';
        else if (part === 'path' && char !== '/') segment += char;
        out += char;
      }
      continue;
    }
    const encoded = encodeComponent(renderTemplateText(piece.path, piece.raw, scope), piece.path);
    if (part === 'path') {
      segment += encoded;
      segmentTemplated ??= piece.path;
    }
    out += encoded;
  }
  if (part === 'path') endSegment();
  return out;
}
