export {
  compensationSchema,
  retryPolicyInputSchema,
  stepRequestSchema,
  stepSchema,
  workflowDefinitionSchema,
  DEFAULT_SIGNAL_TIMEOUT_MS,
  type CompensationDefinition,
  type HttpStepDefinition,
  type SleepStepDefinition,
  type WaitForSignalStepDefinition,
  type RetryPolicyInput,
  type StepDefinition,
  type StepRequest,
  type WorkflowDefinition,
} from './schema.js';
export { parseWorkflowDefinition, toDefinitionIssue, type DefinitionIssue } from './parse-definition.js';
export { checkDefinition, type DefinitionCheckIssue } from './definition-checks.js';
export {
  DEFAULT_COMPENSATION_RETRY_POLICY,
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  backoffDelayMs,
  resolveRetryPolicy,
  type RetryPolicy,
} from './retry-policy.js';
export { TemplateError, listTemplatePaths, renderTemplate, type TemplateScope } from './templates.js';
export { renderUrlTemplate } from './url-template.js';
export {
  RUN_TEMPLATE_FIELDS,
  TEMPLATE_ROOTS,
  parseTemplatePath,
  type ParsedTemplatePath,
  type TemplateRoot,
} from './template-path.js';
export { NAME_PATTERN, RESERVED_HEADER_NAMES, describeHeaderValueProblem } from './request-rules.js';
export type { JsonValue } from './json-value.js';
export { compareVersions, isSemver, latestVersion } from './semver.js';
export { canonicalJson, definitionChecksum } from './canonical-json.js';
export { DEMO_DEFINITIONS_DIR, loadDemoDefinitions } from './demo-definitions.js';
export {
  describeAddressProblem,
  describeDestinationProblem,
  effectivePort,
  isSpecialAddress,
  parseAllowedHosts,
  type AllowedHost,
} from './destination-policy.js';
export { DEVELOPMENT_SERVICE_URLS, readServiceUrls, serviceUrlVariable } from './service-urls.js';
export { findDestinationIssues, type DestinationIssue, type DestinationSettings } from './destination-checks.js';
export { parseIsoTime } from './iso-time.js';
export {
  MAX_COUNTED_MISSED,
  describeCronProblem,
  nextFireTime,
  planFire,
  type CronProblem,
  type CronSpec,
  type FirePlan,
} from './cron-schedule.js';
