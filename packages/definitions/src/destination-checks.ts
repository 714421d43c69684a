import { describeDestinationProblem, type AllowedHost } from './destination-policy.js';
import type { StepRequest, WorkflowDefinition } from './schema.js';
import { serviceUrlVariable } from './service-urls.js';
import { replaceTemplates } from './template-scan.js';

/** What the API knows at registration about where steps may go (the engine reads the same variables). */
export interface DestinationSettings {
  /** SAGAFLOW_ALLOWED_HOSTS, parsed; undefined = every host */
  allowedHosts: AllowedHost[] | undefined;
  /** SAGAFLOW_SERVICE_<NAME>_URL values (with the demo mocks outside production) */
  serviceUrls: Record<string, string>;
  /** NODE_ENV=production: a service without a URL is refused instead of left to fail at run time */
  production: boolean;
}

export interface DestinationIssue {
  path: (string | number)[];
  message: string;
}

function requestProblem(request: StepRequest, settings: DestinationSettings): string | undefined {
  if (request.url !== undefined) {
    // templates are only allowed after the host (schema rule): any text stands in for them here
    return describeDestinationProblem(new URL(replaceTemplates(request.url, () => 'x')), settings.allowedHosts);
  }
  const service = request.service ?? '';
  const base = settings.serviceUrls[service];
  if (base === undefined) {
    return settings.production
      ? `service "${service}" has no URL: set ${serviceUrlVariable(service)} (NODE_ENV=production has no default)`
      : undefined;
  }
  const problem = describeDestinationProblem(new URL(base), settings.allowedHosts);
  return problem && `service "${service}" (${serviceUrlVariable(service)}): ${problem}`;
}

/**
 * Registration check (docs/contract.md#security): every action and compensation must target a host SAGAFLOW_ALLOWED_HOSTS allows, no
 * link-local or metadata address unless listed, and in production a service with a configured URL. Expects a
 * definition that passed the schema.
 */
export function findDestinationIssues(
  definition: WorkflowDefinition,
  settings: DestinationSettings,
): DestinationIssue[] {
  const issues: DestinationIssue[] = [];
  definition.steps.forEach((step, index) => {
    if (!step.request) return; // a wait step sends nothing
    const action = requestProblem(step.request, settings);
    if (action) issues.push({ path: ['steps', index, 'request'], message: action });
    if (!step.compensation) return;
    const undo = requestProblem(step.compensation.request, settings);
    if (undo) issues.push({ path: ['steps', index, 'compensation', 'request'], message: undo });
  });
  return issues;
}
