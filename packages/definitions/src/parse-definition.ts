import type { z } from 'zod';
import { workflowDefinitionSchema, type WorkflowDefinition } from './schema.js';

/** One reason a definition document is rejected. */
export interface DefinitionIssue {
  /** Where in the document, e.g. ['steps', 1, 'request', 'method']. */
  path: (string | number)[];
  message: string;
  /** zod's issue code, or for the registration checks a specific one such as `duplicate_step_id`. */
  code: string;
}

/** A zod issue as a DefinitionIssue: custom issues carry their specific code in `params.code`. */
export function toDefinitionIssue(issue: z.core.$ZodIssue): DefinitionIssue {
  const params = issue.code === 'custom' ? issue.params : undefined;
  const code = typeof params?.code === 'string' ? params.code : issue.code;
  return {
    path: issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment)),
    message: issue.message,
    code,
  };
}

/** Validates a workflow definition document (schema and registration checks) without throwing. */
export function parseWorkflowDefinition(
  doc: unknown,
): { success: true; data: WorkflowDefinition } | { success: false; issues: DefinitionIssue[] } {
  const result = workflowDefinitionSchema.safeParse(doc);
  if (result.success) return { success: true, data: result.data };
  return { success: false, issues: result.error.issues.map(toDefinitionIssue) };
}
