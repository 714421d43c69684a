/** Roots a template path may start with (docs/contract.md#templates). */
export const TEMPLATE_ROOTS = ['input', 'context', 'run', 'steps'] as const;
export type TemplateRoot = (typeof TEMPLATE_ROOTS)[number];

/** Fields of `run` a template may read. */
export const RUN_TEMPLATE_FIELDS = ['runId', 'workflowName', 'workflowVersion'] as const;

/** Segments never walked: reading them is treated as a missing path. */
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export type TemplatePathProblem =
  'empty_template' | 'empty_path_segment' | 'unknown_template_root' | 'unknown_run_field' | 'invalid_steps_reference';

export type ParsedTemplatePath =
  | { ok: true; root: TemplateRoot; segments: string[]; stepId?: string }
  | { ok: false; problem: TemplatePathProblem; message: string };

function isTemplateRoot(value: string): value is TemplateRoot {
  return (TEMPLATE_ROOTS as readonly string[]).includes(value);
}

/**
 * Checks the shape of a template path (the text between the braces, trimmed) against the root rules:
 * `input...`, `context...`, `run.<runId|workflowName|workflowVersion>`, `steps.<stepId>.output...`.
 * `raw` is the template as written, used in messages.
 */
export function parseTemplatePath(path: string, raw = `{{${path}}}`): ParsedTemplatePath {
  if (path === '') return { ok: false, problem: 'empty_template', message: `empty template "${raw}"` };
  const segments = path.split('.');
  if (segments.some((segment) => segment === '')) {
    return { ok: false, problem: 'empty_path_segment', message: `template "${raw}" has an empty path segment` };
  }
  const root = segments[0] ?? '';
  if (!isTemplateRoot(root)) {
    return { ok: false, problem: 'unknown_template_root', message: `unknown template root "${root}" in "${raw}"` };
  }
  if (root === 'run') {
    const field = segments[1];
    if (segments.length !== 2 || !(RUN_TEMPLATE_FIELDS as readonly string[]).includes(field ?? '')) {
      return {
        ok: false,
        problem: 'unknown_run_field',
        message: `template "${raw}" must be one of ${RUN_TEMPLATE_FIELDS.map((f) => `run.${f}`).join(', ')}`,
      };
    }
  }
  if (root === 'steps') {
    if (segments.length < 3 || segments[2] !== 'output') {
      return {
        ok: false,
        problem: 'invalid_steps_reference',
        message: `template "${raw}" must have the form steps.<stepId>.output...`,
      };
    }
    return { ok: true, root, segments, stepId: segments[1] };
  }
  return { ok: true, root, segments };
}
