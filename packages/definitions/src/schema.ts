import { z } from 'zod';
import { checkDefinition } from './definition-checks.js';
import { jsonValueSchema } from './json-value.js';
import {
  NAME_PATTERN,
  describeHeaderNameProblem,
  describeHeaderValueProblem,
  describePathProblem,
  describeUrlProblem,
} from './request-rules.js';
import { SEMVER_PATTERN, isSemver } from './semver.js';

const NAME_RULE = 'lowercase letters, digits and "-", starting with a letter or digit, at most 63 characters';

function nameSchema(what: string) {
  return z.string({ error: `${what} must be a string` }).regex(NAME_PATTERN, {
    error: (issue) => `${what} ${JSON.stringify(issue.input)} is invalid: use ${NAME_RULE}`,
  });
}

function integerBetween(field: string, min: number, max: number) {
  const error = `${field} must be an integer between ${min} and ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** Adds the message as a custom issue when `describe` finds a problem with a string. */
function describedString(describe: (value: string) => string | undefined, code: string) {
  return z.string().superRefine((value, ctx) => {
    const message = describe(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, params: { code } });
  });
}

export const retryPolicyInputSchema = z.strictObject({
  maxAttempts: integerBetween('retry.maxAttempts', 1, 100).optional(),
  initialIntervalMs: integerBetween('retry.initialIntervalMs', 0, 3_600_000).optional(),
  backoffCoefficient: z
    .number({ error: 'retry.backoffCoefficient must be a number between 1 and 10' })
    .min(1, { error: 'retry.backoffCoefficient must be a number between 1 and 10' })
    .max(10, { error: 'retry.backoffCoefficient must be a number between 1 and 10' })
    .optional(),
  maxIntervalMs: integerBetween('retry.maxIntervalMs', 0, 86_400_000).optional(),
  jitter: z.enum(['full', 'equal', 'none'], { error: 'retry.jitter must be one of full, equal, none' }).optional(),
});

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const headersSchema = z
  .record(z.string(), z.string({ error: 'header values must be strings' }))
  .superRefine((headers, ctx) => {
    for (const [name, value] of Object.entries(headers)) {
      const nameProblem = describeHeaderNameProblem(name);
      if (nameProblem)
        ctx.addIssue({ code: 'custom', message: nameProblem, path: [name], params: { code: 'invalid_header' } });
      const valueProblem = describeHeaderValueProblem(value);
      if (valueProblem)
        ctx.addIssue({ code: 'custom', message: valueProblem, path: [name], params: { code: 'invalid_header' } });
    }
  });

export const stepRequestSchema = z
  .strictObject({
    method: z.enum(HTTP_METHODS, {
      error: (issue) => `invalid method ${JSON.stringify(issue.input)}: use one of ${HTTP_METHODS.join(', ')}`,
    }),
    service: nameSchema('service').optional(),
    path: describedString(describePathProblem, 'invalid_path').optional(),
    url: describedString(describeUrlProblem, 'invalid_url').optional(),
    headers: headersSchema.optional(),
    body: jsonValueSchema('body must be a JSON value').optional(),
  })
  .superRefine((request, ctx) => {
    const target = (message: string, path: string[]) =>
      ctx.addIssue({ code: 'custom', message, path, params: { code: 'invalid_request_target' } });
    if (request.url !== undefined && (request.service !== undefined || request.path !== undefined)) {
      target('request must use either "url" or "service" + "path", not both', ['url']);
    } else if (request.url === undefined && request.service === undefined && request.path === undefined) {
      target('request needs "service" + "path" or "url"', []);
    } else if (request.service !== undefined && request.path === undefined) {
      target('request with "service" needs a "path"', ['path']);
    } else if (request.path !== undefined && request.service === undefined) {
      target('request with "path" needs a "service" (or use an absolute "url")', ['service']);
    }
    if (request.method === 'GET' && request.body !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a GET request cannot have a body',
        path: ['body'],
        params: { code: 'get_with_body' },
      });
    }
  });

const timeoutMsSchema = integerBetween('timeoutMs', 1, 300_000);

/** The longest sleep duration accepted (about 100 years): keeps the due time a valid timestamp. */
const MAX_WAIT_MS = 3_155_760_000_000;

export const compensationSchema = z.strictObject({
  id: nameSchema('compensation id'),
  request: stepRequestSchema,
  timeoutMs: timeoutMsSchema.optional(),
  retry: retryPolicyInputSchema.optional(),
});

export const sleepSchema = z.strictObject({
  durationMs: z
    .number({ error: 'sleep.durationMs must be an integer ≥ 0 (milliseconds)' })
    .int({ error: 'sleep.durationMs must be an integer ≥ 0 (milliseconds)' })
    .min(0, { error: 'sleep.durationMs must be an integer ≥ 0 (milliseconds)' })
    .max(MAX_WAIT_MS, { error: `sleep.durationMs must be at most ${MAX_WAIT_MS} (about 100 years)` })
    .optional(),
  until: z
    .string({ error: 'sleep.until must be a string: an ISO 8601 time or a template such as "{{input.shipAt}}"' })
    .min(1, { error: 'sleep.until must not be empty' })
    .max(2000, { error: 'sleep.until must be at most 2000 characters' })
    .optional(),
});

/** 1 ms – 1 year; default 7 days (docs/contract.md#durable-waits). */
export const SIGNAL_TIMEOUT_MAX_MS = 31_536_000_000;
export const DEFAULT_SIGNAL_TIMEOUT_MS = 604_800_000;

export const waitForSignalSchema = z.strictObject({
  name: nameSchema('waitForSignal.name'),
  timeoutMs: integerBetween('waitForSignal.timeoutMs', 1, SIGNAL_TIMEOUT_MAX_MS).optional(),
  onTimeout: z
    .enum(['fail', 'continue'], { error: 'waitForSignal.onTimeout must be one of fail, continue' })
    .optional(),
});

/**
 * A step of any kind, as written: one of `request` (an HTTP step), `sleep` or `waitForSignal`. The kind checks are in
 * checkStepKind (a wait has no request, compensation, retry or timeoutMs); StepDefinition is the checked union.
 */
export const stepSchema = z
  .strictObject({
    id: nameSchema('step id'),
    request: stepRequestSchema.optional(),
    timeoutMs: timeoutMsSchema.optional(),
    retry: retryPolicyInputSchema.optional(),
    compensation: compensationSchema.optional(),
    sleep: sleepSchema.optional(),
    waitForSignal: waitForSignalSchema.optional(),
  })
  .superRefine((step, ctx) => {
    for (const issue of checkStepKind(step)) ctx.addIssue({ code: 'custom', ...issue });
  });

type StepInput = z.infer<typeof stepSchema>;

/** One kind problem of a step: exactly one of request/sleep/waitForSignal, waits without HTTP options. */
function checkStepKind(step: StepInput): { message: string; path: (string | number)[]; params: { code: string } }[] {
  const kinds = (['request', 'sleep', 'waitForSignal'] as const).filter((k) => step[k] !== undefined);
  const issue = (message: string, path: (string | number)[], code: string) => ({ message, path, params: { code } });
  if (kinds.length === 0)
    return [issue(`step "${step.id}" needs one of "request", "sleep" or "waitForSignal"`, [], 'missing_step_kind')];
  if (kinds.length > 1)
    return [
      issue(
        `step "${step.id}" has ${kinds.map((k) => `"${k}"`).join(' and ')}; a step is exactly one of request, sleep or waitForSignal`,
        [kinds[1]!],
        'conflicting_step_kinds',
      ),
    ];
  const issues = [];
  const kind = kinds[0]!;
  if (kind !== 'request') {
    for (const field of ['compensation', 'retry', 'timeoutMs'] as const) {
      if (step[field] !== undefined)
        issues.push(
          issue(
            `a ${kind} step has no "${field}" (step "${step.id}"); only HTTP steps are retried, time out per attempt or compensate`,
            [field],
            'wait_step_option',
          ),
        );
    }
  }
  if (step.sleep && (step.sleep.durationMs === undefined) === (step.sleep.until === undefined))
    issues.push(
      issue(
        `sleep of step "${step.id}" needs exactly one of "durationMs" and "until"`,
        ['sleep'],
        'sleep_duration_or_until',
      ),
    );
  return issues;
}

const workflowDefinitionObjectSchema = z.strictObject({
  name: nameSchema('name'),
  version: z
    .string({ error: 'version must be a string' })
    .max(128, { error: 'version must be at most 128 characters' })
    .regex(SEMVER_PATTERN, {
      error: (issue) => `version ${JSON.stringify(issue.input)} is not semver (MAJOR.MINOR.PATCH[-prerelease][+build])`,
      abort: true,
    })
    .refine(isSemver, {
      error: (issue) =>
        `version ${JSON.stringify(issue.input)} is not semver: MAJOR, MINOR and PATCH must be below 2^53`,
    }),
  description: z
    .string({ error: 'description must be a string' })
    .max(2000, { error: 'description must be at most 2000 characters' })
    .optional(),
  steps: z
    .array(stepSchema, { error: 'steps must be an array' })
    .min(1, { error: 'a workflow needs at least 1 step' })
    .max(50, { error: 'a workflow has at most 50 steps' }),
});

export type RetryPolicyInput = z.infer<typeof retryPolicyInputSchema>;
export type StepRequest = z.infer<typeof stepRequestSchema>;
export type CompensationDefinition = z.infer<typeof compensationSchema>;
export type SleepDefinition = z.infer<typeof sleepSchema>;
export type WaitForSignalDefinition = z.infer<typeof waitForSignalSchema>;
interface StepBase {
  id: string;
}
/** An HTTP step: a request, optionally a compensation, a per-attempt timeout and a retry policy. */
export interface HttpStepDefinition extends StepBase {
  request: StepRequest;
  timeoutMs?: number | undefined;
  retry?: RetryPolicyInput | undefined;
  compensation?: CompensationDefinition | undefined;
  sleep?: undefined;
  waitForSignal?: undefined;
}
interface WaitStepBase extends StepBase {
  request?: undefined;
  timeoutMs?: undefined;
  retry?: undefined;
  compensation?: undefined;
}
export interface SleepStepDefinition extends WaitStepBase {
  sleep: SleepDefinition;
  waitForSignal?: undefined;
}
export interface WaitForSignalStepDefinition extends WaitStepBase {
  sleep?: undefined;
  waitForSignal: WaitForSignalDefinition;
}
/** A step that passed stepSchema: exactly one kind (checkStepKind). */
export type StepDefinition = HttpStepDefinition | SleepStepDefinition | WaitForSignalStepDefinition;
export type WorkflowDefinition = Omit<z.infer<typeof workflowDefinitionObjectSchema>, 'steps'> & {
  steps: StepDefinition[];
};

/**
 * A workflow definition (docs/contract.md#definitions) including the registration checks that span steps (unique ids, template
 * roots, step references that run before their user), so it can serve directly as an API input schema.
 */
export const workflowDefinitionSchema = workflowDefinitionObjectSchema.superRefine((def, ctx) => {
  // the step schema's kind checks passed (superRefine runs only on a valid shape): each step is one kind
  for (const issue of checkDefinition(def as WorkflowDefinition)) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, params: { code: issue.code } });
  }
}) as unknown as z.ZodType<WorkflowDefinition, z.input<typeof workflowDefinitionObjectSchema>>;
