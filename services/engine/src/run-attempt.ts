import {
  backoffDelayMs,
  DEFAULT_TIMEOUT_MS,
  resolveRetryPolicy,
  TemplateError,
  type AllowedHost,
  type StepDefinition,
  type StepRequest,
} from '@sagaflow/definitions';
import { TERMINAL_RUN_STATUSES, type AttemptRecord, type AttemptResult, type ClaimedItem } from '@sagaflow/db';
import type { Agent } from 'undici';
import { buildAttemptRequest, RequestConfigError, type AttemptRequest } from './build-request.js';
import { classifyResponse, parseRetryAfter } from './classify-response.js';
import { sendAttempt } from './send-attempt.js';
import type { TraceHeaders } from '@sagaflow/observability';

export interface AttemptSettings {
  serviceUrls: Record<string, string>;
  /** SAGAFLOW_ALLOWED_HOSTS, parsed; undefined = every host (link-local and metadata addresses still refused) */
  allowedHosts?: AllowedHost[] | undefined;
  maxDeliveries: number;
}

export interface RunAttemptOptions {
  /** aborts the request (shutdown) */
  signal?: AbortSignal;
  /** the attempt span's trace headers (tracing on); otherwise the run's trace id with a fresh span id is sent */
  traceHeaders?: TraceHeaders | undefined;
  /** jitter source */
  random?: () => number;
}

/** What happened to one claimed item, ready to be committed by completeItem. */
export interface AttemptOutcome {
  attempt: AttemptRecord | undefined;
  result: AttemptResult;
  /** what was sent, when something was */
  request?: AttemptRequest;
  durationMs?: number;
}

interface Target {
  request: StepRequest;
  timeoutMs: number | undefined;
  retry: StepDefinition['retry'];
  compensationId?: string;
}

function targetOf(step: StepDefinition, kind: 'action' | 'compensation'): Target | undefined {
  if (kind === 'action') return { request: step.request, timeoutMs: step.timeoutMs, retry: step.retry };
  const c = step.compensation;
  return c ? { request: c.request, timeoutMs: c.timeoutMs, retry: c.retry, compensationId: c.id } : undefined;
}

const summarize = (body: unknown): unknown =>
  typeof body === 'string' && body.length > 2048 ? `${body.slice(0, 2048)}…` : body;

/**
 * Runs one claimed item: poison check, request, classification, retry decision. No database writes:
 * the caller commits the returned outcome with completeItem.
 */
export async function runAttempt(
  item: ClaimedItem,
  step: StepDefinition | undefined,
  agent: Agent,
  settings: AttemptSettings,
  options: RunAttemptOptions = {},
): Promise<AttemptOutcome> {
  const { signal, random = Math.random } = options;
  if (TERMINAL_RUN_STATUSES.includes(item.run.status)) {
    // defensive: a terminal run never gets another request; completing this retires the stray item
    return {
      attempt: undefined,
      result: { outcome: 'FAILED', error: { code: 'RUN_TERMINAL', message: `run is ${item.run.status}` } },
    };
  }
  if (item.deliveries > settings.maxDeliveries) {
    const message = `item delivered ${item.deliveries} times without completing; parked`;
    return {
      attempt: undefined,
      result: { outcome: 'FAILED', park: true, error: { code: 'DELIVERY_EXHAUSTED', message } },
    };
  }
  const target = step ? targetOf(step, item.kind) : undefined;
  if (!target) {
    const message = `definition ${item.run.workflowName}@${item.run.workflowVersion} has no ${item.kind} for step ${item.stepId}`;
    return { attempt: undefined, result: { outcome: 'FAILED', park: true, error: { code: 'STEP_FAILED', message } } };
  }

  const attemptNo = item.attemptsMade + 1;
  const budgetUsed = attemptNo - item.attemptsBeforeRetry;
  const policy = resolveRetryPolicy(target.retry, item.kind);
  const timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const startedAt = new Date();
  const record = (
    outcome: AttemptRecord['outcome'],
    httpStatus: number | null,
    error: Record<string, unknown> | null,
  ): AttemptRecord => ({
    attemptNo,
    outcome,
    httpStatus,
    error,
    startedAt,
    finishedAt: new Date(),
  });

  let request: AttemptRequest;
  try {
    request = buildAttemptRequest(
      target.request,
      {
        runId: item.runId,
        workflowName: item.run.workflowName,
        workflowVersion: item.run.workflowVersion,
        stepId: item.stepId,
        kind: item.kind,
        ...(target.compensationId ? { compensationId: target.compensationId } : {}),
        attemptNo,
        correlationId: item.run.correlationId,
        traceParent: item.run.traceParent,
        traceState: item.run.traceState,
        traceHeaders: options.traceHeaders,
        input: item.run.input,
        context: item.run.context,
        outputs: item.outputs,
      },
      settings,
    );
  } catch (error) {
    if (!(error instanceof TemplateError) && !(error instanceof RequestConfigError)) throw error;
    const failure = { code: error.code, message: error.message };
    return { attempt: record('FAILED', null, failure), result: { outcome: 'FAILED', error: failure } };
  }

  const response = await sendAttempt(agent, request, timeoutMs, signal);
  const durationMs = Date.now() - startedAt.getTime();
  const httpStatus = response.end.type === 'response' ? response.end.status : null;
  const verdict = classifyResponse(response.end);
  if (verdict === 'success') {
    return {
      attempt: record('SUCCEEDED', httpStatus, null),
      result: { outcome: 'SUCCEEDED', output: response.body },
      request,
      durationMs,
    };
  }

  const what =
    response.end.type === 'response' ? `answered ${response.end.status}` : (response.errorMessage ?? response.end.type);
  const detail = {
    code:
      response.end.type === 'response'
        ? 'HTTP_ERROR'
        : response.end.type === 'timeout'
          ? 'TIMEOUT'
          : response.end.type === 'refused'
            ? 'DESTINATION_REFUSED'
            : 'CONNECTION_ERROR',
    message: `${request.method} ${request.url} ${what}`,
    ...(httpStatus !== null ? { httpStatus, response: summarize(response.body) } : {}),
  };
  if (verdict === 'retryable' && budgetUsed < policy.maxAttempts) {
    const retryAfterMs = parseRetryAfter(response.retryAfter, Date.now());
    const delay =
      retryAfterMs !== undefined
        ? Math.min(policy.maxIntervalMs, retryAfterMs)
        : backoffDelayMs(policy, budgetUsed, random);
    return {
      attempt: record('RETRYABLE', httpStatus, detail),
      result: { outcome: 'RETRYABLE', retryAt: new Date(Date.now() + delay), error: { ...detail, retryInMs: delay } },
      request,
      durationMs,
    };
  }
  const message = verdict === 'retryable' ? `gave up after ${budgetUsed} attempts: ${detail.message}` : detail.message;
  const failure = { ...detail, code: 'STEP_FAILED', message, lastErrorCode: detail.code };
  return {
    attempt: record('FAILED', httpStatus, failure),
    result: { outcome: 'FAILED', error: failure },
    request,
    durationMs,
  };
}
