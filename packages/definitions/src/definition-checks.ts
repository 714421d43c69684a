import type { CompensationDefinition, StepRequest, WorkflowDefinition } from './schema.js';
import { isIsoTime } from './iso-time.js';
import { FORBIDDEN_SEGMENTS, parseTemplatePath } from './template-path.js';
import { collectTemplateReferences, type TemplateReference } from './template-scan.js';

/** One registration problem, located from the definition's root. */
export interface DefinitionCheckIssue {
  path: (string | number)[];
  message: string;
  code: string;
}

/** Templates in a request's path, url, header values and body, located from the request. */
function collectRequestTemplates(request: StepRequest): TemplateReference[] {
  return [
    ...collectTemplateReferences(request.path, ['path']),
    ...collectTemplateReferences(request.url, ['url']),
    ...collectTemplateReferences(request.headers, ['headers']),
    ...collectTemplateReferences(request.body, ['body']),
  ];
}

function checkIdUniqueness(def: WorkflowDefinition): DefinitionCheckIssue[] {
  const issues: DefinitionCheckIssue[] = [];
  const stepIds = new Set<string>();
  def.steps.forEach((step, index) => {
    if (stepIds.has(step.id)) {
      issues.push({
        path: ['steps', index, 'id'],
        message: `duplicate step id "${step.id}"`,
        code: 'duplicate_step_id',
      });
    }
    stepIds.add(step.id);
  });
  const compensationIds = new Set<string>();
  def.steps.forEach((step, index) => {
    const id = step.compensation?.id;
    if (id === undefined) return;
    const path = ['steps', index, 'compensation', 'id'];
    if (compensationIds.has(id)) {
      issues.push({ path, message: `duplicate compensation id "${id}"`, code: 'duplicate_compensation_id' });
    } else if (stepIds.has(id)) {
      issues.push({ path, message: `compensation id "${id}" is also a step id`, code: 'compensation_id_conflict' });
    }
    compensationIds.add(id);
  });
  return issues;
}

/**
 * Checks each template of one request. `latestIndex` is the last step index the request may read:
 * a step reads only earlier steps (index - 1); a compensation also reads its own step (index).
 */
function checkRequestTemplates(
  request: StepRequest,
  owner: string,
  latestIndex: number,
  stepIndexById: ReadonlyMap<string, number>,
  base: (string | number)[],
): DefinitionCheckIssue[] {
  return checkTemplates(collectRequestTemplates(request), owner, latestIndex, stepIndexById, base);
}

function checkTemplates(
  references: TemplateReference[],
  owner: string,
  latestIndex: number,
  stepIndexById: ReadonlyMap<string, number>,
  base: (string | number)[],
): DefinitionCheckIssue[] {
  const issues: DefinitionCheckIssue[] = [];
  for (const reference of references) {
    const path = [...base, ...reference.location];
    const parsed = parseTemplatePath(reference.path, reference.raw);
    if (!parsed.ok) {
      issues.push({ path, message: parsed.message, code: parsed.problem });
      continue;
    }
    const forbidden = parsed.segments.find((segment) => FORBIDDEN_SEGMENTS.has(segment));
    if (forbidden !== undefined) {
      const message = `template "${reference.raw}" uses the forbidden segment "${forbidden}"`;
      issues.push({ path, message, code: 'forbidden_template_segment' });
      continue;
    }
    if (parsed.stepId === undefined) continue;
    const referencedIndex = stepIndexById.get(parsed.stepId);
    if (referencedIndex === undefined) {
      const message = `${owner} references unknown step "${parsed.stepId}" in "${reference.raw}"`;
      issues.push({ path, message, code: 'unknown_step_reference' });
    } else if (referencedIndex > latestIndex) {
      const message = `${owner} references step "${parsed.stepId}" which does not run before it`;
      issues.push({ path, message, code: 'step_not_run_before' });
    }
  }
  return issues;
}

function checkCompensationTemplates(
  compensation: CompensationDefinition,
  index: number,
  stepIndexById: ReadonlyMap<string, number>,
): DefinitionCheckIssue[] {
  const owner = `compensation "${compensation.id}"`;
  return checkRequestTemplates(compensation.request, owner, index, stepIndexById, [
    'steps',
    index,
    'compensation',
    'request',
  ]);
}

/**
 * The registration checks that span steps (docs/contract.md#definitions): unique ids, and templates that name a known root and
 * only steps that run before their user. Pure; returns [] for a sound definition.
 */
export function checkDefinition(def: WorkflowDefinition): DefinitionCheckIssue[] {
  const stepIndexById = new Map<string, number>();
  def.steps.forEach((step, index) => {
    if (!stepIndexById.has(step.id)) stepIndexById.set(step.id, index);
  });
  const issues = checkIdUniqueness(def);
  def.steps.forEach((step, index) => {
    const owner = `step "${step.id}"`;
    if (step.request)
      issues.push(...checkRequestTemplates(step.request, owner, index - 1, stepIndexById, ['steps', index, 'request']));
    if (step.compensation) issues.push(...checkCompensationTemplates(step.compensation, index, stepIndexById));
    const until = step.sleep?.until;
    if (until !== undefined) {
      const base = ['steps', index, 'sleep'];
      const references = collectTemplateReferences(until, ['until']);
      issues.push(...checkTemplates(references, owner, index - 1, stepIndexById, base));
      if (references.length === 0 && !isIsoTime(until))
        issues.push({
          path: [...base, 'until'],
          message: `sleep.until of step "${step.id}" is neither an ISO 8601 time (e.g. 2027-01-31T09:00:00Z) nor a template: ${JSON.stringify(until)}`,
          code: 'invalid_until',
        });
    }
  });
  return issues;
}
