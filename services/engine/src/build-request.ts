import {
  describeDestinationProblem,
  describeHeaderValueProblem,
  renderTemplate,
  renderUrlTemplate,
  serviceUrlVariable,
  TemplateError,
  type AllowedHost,
  type StepRequest,
  type TemplateScope,
} from '@sagaflow/definitions';
import type { AttemptKind } from '@sagaflow/db';
import { childTraceParent, parseTraceParent, type TraceHeaders } from '@sagaflow/observability';

/** The HTTP request of one attempt, fully decided before any I/O. */
export interface AttemptRequest {
  method: string;
  url: string;
  /**
   * The URL as the definition writes it — templates not rendered — for error messages, logs and spans: a value
   * rendered into the path or query (an input's token, card or email) is never written there (SPEC §8 redaction).
   */
  displayUrl: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export interface AttemptIdentity {
  runId: string;
  workflowName: string;
  workflowVersion: string;
  stepId: string;
  kind: AttemptKind;
  compensationId?: string;
  attemptNo: number;
  correlationId: string;
  /** the trace context stored with the run (the request that started it) */
  traceParent: string | null;
  traceState?: string | null;
  /** the attempt span's context, when tracing is on: sent as is */
  traceHeaders?: TraceHeaders | undefined;
  input: Record<string, unknown>;
  context: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

/** A configuration problem that no retry can fix (unknown service, destination refused by the policy). */
export class RequestConfigError extends Error {
  readonly code = 'STEP_FAILED';
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export function idempotencyKey(runId: string, stepId: string, kind: AttemptKind): string {
  return kind === 'action' ? `${runId}:${stepId}` : `${runId}:${stepId}:compensate`;
}

/** The attempt span's trace headers; without tracing, the run's trace id with a fresh span id (docs/contract.md#observability). */
function traceHeadersOf(a: AttemptIdentity): TraceHeaders {
  if (a.traceHeaders) return a.traceHeaders;
  // a run stored without a trace context (started before the API minted one for every run): its id as trace id
  const traceparent = childTraceParent(a.traceParent, a.runId.replaceAll('-', ''));
  // the vendor state belongs to the run's trace: passed on only when that trace is continued
  return a.traceState && parseTraceParent(a.traceParent) ? { traceparent, tracestate: a.traceState } : { traceparent };
}

function templateScope(a: AttemptIdentity): TemplateScope {
  const steps: TemplateScope['steps'] = {};
  for (const [id, output] of Object.entries(a.outputs)) steps[id] = { output };
  return {
    input: a.input,
    context: a.context,
    run: { runId: a.runId, workflowName: a.workflowName, workflowVersion: a.workflowVersion },
    steps,
  };
}

/** docs/contract.md#envelope: the body sent when a POST/PUT/PATCH step defines none. */
export function envelope(a: AttemptIdentity): Record<string, unknown> {
  const steps: Record<string, { output: unknown }> = {};
  for (const [id, output] of Object.entries(a.outputs)) steps[id] = { output };
  return {
    runId: a.runId,
    workflowName: a.workflowName,
    workflowVersion: a.workflowVersion,
    stepId: a.stepId,
    kind: a.kind,
    ...(a.compensationId ? { compensationId: a.compensationId } : {}),
    attempt: a.attemptNo,
    input: a.input,
    context: a.context,
    steps,
  };
}

function resolveUrl(request: StepRequest, scope: TemplateScope, serviceUrls: Record<string, string>): URL {
  // template values are percent-encoded: they cannot add path segments, a query or parameters (docs/contract.md#security)
  if (request.url) return new URL(renderUrlTemplate(request.url, scope));
  const base = serviceUrls[request.service ?? ''];
  if (!base)
    throw new RequestConfigError(
      `no URL configured for service "${request.service}" (set ${serviceUrlVariable(String(request.service))})`,
    );
  const path = renderUrlTemplate(request.path ?? '/', scope);
  return new URL(base.replace(/\/+$/, '') + path);
}

/** The request's URL with its templates as written (see AttemptRequest.displayUrl). */
function displayUrl(request: StepRequest, url: URL, serviceUrls: Record<string, string>): string {
  const template =
    request.url ?? `${(serviceUrls[request.service ?? ''] ?? '').replace(/\/+$/, '')}${request.path ?? '/'}`;
  return template.includes('{{') ? template : url.toString();
}

/** Renders the step's request (templates, envelope, headers). Throws TemplateError or RequestConfigError. */
export function buildAttemptRequest(
  request: StepRequest,
  attempt: AttemptIdentity,
  options: { serviceUrls: Record<string, string>; allowedHosts?: AllowedHost[] | undefined },
): AttemptRequest {
  const scope = templateScope(attempt);
  const url = resolveUrl(request, scope, options.serviceUrls);
  // SAGAFLOW_ALLOWED_HOSTS (host or host:port) and literal link-local/metadata addresses; names are checked again
  // at connect time, on the addresses they resolve to (downstream-agent.ts)
  const refused = describeDestinationProblem(url, options.allowedHosts);
  if (refused) throw new RequestConfigError(refused);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    const rendered = renderTemplate(value, scope);
    const text = typeof rendered === 'string' ? rendered : JSON.stringify(rendered);
    // undici refuses such a value before sending: no retry can fix it (docs/contract.md#security)
    const problem = describeHeaderValueProblem(text);
    if (problem) throw new TemplateError(`header "${name}" after rendering: ${problem}`, name);
    headers[name.toLowerCase()] = text;
  }
  let body: string | undefined;
  if (BODY_METHODS.has(request.method)) {
    body = JSON.stringify(request.body === undefined ? envelope(attempt) : renderTemplate(request.body, scope));
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, {
    'x-idempotency-key': idempotencyKey(attempt.runId, attempt.stepId, attempt.kind),
    'x-correlation-id': attempt.correlationId,
    'x-sagaflow-run-id': attempt.runId,
    'x-sagaflow-step-id': attempt.stepId,
    'x-sagaflow-attempt': String(attempt.attemptNo),
    ...traceHeadersOf(attempt),
  });
  return {
    method: request.method,
    url: url.toString(),
    displayUrl: displayUrl(request, url, options.serviceUrls),
    headers,
    body,
  };
}
