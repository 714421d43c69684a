import {
  backoffDelayMs,
  DEFAULT_TIMEOUT_MS,
  resolveRetryPolicy,
  TemplateError,
  type AllowedHost,
  type StepDefinition,
  type StepRequest,
} from '@sagaflow/definitions';
import { storableText, type ClaimedItem } from '@sagaflow/db';
import { TERMINAL_RUN_STATUSES, type AttemptError, type AttemptRecord, type AttemptResult } from '@sagaflow/saga';
import type { Agent } from 'undici';
import { buildAttemptRequest, RequestConfigError, type AttemptRequest } from './build-request.js';
import { classifyResponse, parseRetryAfter, recordableStatus, type AttemptEnd } from './classify-response.js';
import { runWait, type MailboxSignal } from './run-wait.js';
import { sendAttempt, type AttemptResponse } from './send-attempt.js';
import type { Cancel } from './cancel.js';
import type { TraceHeaders } from '@sagaflow/observability';

export interface AttemptSettings {
  serviceUrls: Record<string, string>;
  /** SAGAFLOW_ALLOWED_HOSTS, parsed; undefined = every host (link-local and metadata addresses still refused) */
  allowedHosts?: AllowedHost[] | undefined;
  maxDeliveries: number;
}

export interface RunAttemptOptions {
  /** aborts the request (shutdown) */
  signal?: Cancel;
  /** the attempt span's trace headers (tracing on); otherwise the run's trace id with a fresh span id is sent */
  traceHeaders?: TraceHeaders | undefined;
  /** jitter source */
  random?: () => number;
  /** a waitForSignal step: the oldest unconsumed signal of its name, read by the caller */
  mailbox?: MailboxSignal | undefined;
  /** false when the item's lease may have run out: the request is then not sent (LeaseRunOutError) */
  leaseHeld?: () => boolean;
}

/** The item's lease ran out before its request was sent (the engine stalled): nothing was sent, nothing to commit. */
export class LeaseRunOutError extends Error {
  constructor() {
    super('the lease ran out before the request was sent');
    this.name = 'LeaseRunOutError';
  }
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
  if (!step.request) return undefined;
  if (kind === 'action') return { request: step.request, timeoutMs: step.timeoutMs, retry: step.retry };
  const c = step.compensation;
  return c ? { request: c.request, timeoutMs: c.timeoutMs, retry: c.retry, compensationId: c.id } : undefined;
}

/** A long text body cut to 2 KiB for an error detail; a surrogate pair cut in half becomes U+FFFD (storable). */
const summarize = (body: unknown): unknown =>
  typeof body === 'string' && body.length > 2048 ? `${storableText(body.slice(0, 2048))}…` : body;

const ERROR_CODES: Record<AttemptEnd['type'], string> = {
  response: 'HTTP_ERROR',
  'no-final-response': 'NO_FINAL_RESPONSE',
  timeout: 'TIMEOUT',
  'connection-error': 'CONNECTION_ERROR',
  refused: 'DESTINATION_REFUSED',
};

/** What went wrong with an attempt that did not succeed, from parts that are all storable (see sendAttempt). */
function failureDetail(request: AttemptRequest, response: AttemptResponse): AttemptError {
  const { end } = response;
  const httpStatus = recordableStatus(end);
  let what = response.errorMessage ?? end.type;
  if (end.type === 'response')
    what = httpStatus === null ? `answered ${end.status} (a status outside 200–599)` : `answered ${end.status}`;
  return {
    code: ERROR_CODES[end.type],
    message: `${request.method} ${request.displayUrl} ${what}`,
    ...(end.type === 'response'
      ? { ...(httpStatus === null ? { status: end.status } : { httpStatus }), response: summarize(response.body) }
      : {}),
  };
}

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
  if (TERMINAL_RUN_STATUSES.includes(item.state.status)) {
    // defensive: a terminal run never gets another request; completing this retires the stray item
    return {
      attempt: undefined,
      result: { outcome: 'FAILED', error: { code: 'RUN_TERMINAL', message: `run is ${item.state.status}` } },
    };
  }
  if (item.deliveries > settings.maxDeliveries) {
    // this delivery is the one that parks it: the ones before it never completed
    const message = `item delivered ${item.deliveries - 1} times without completing; parked`;
    return {
      attempt: undefined,
      result: { outcome: 'FAILED', park: true, error: { code: 'DELIVERY_EXHAUSTED', message } },
    };
  }
  if (step && !step.request && item.kind === 'action') {
    return { attempt: undefined, result: runWait(item, step, options.mailbox) };
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

  // the last moment before anything leaves: an engine that stalled past its lease sends nothing (SPEC §11)
  if (options.leaseHeld && !options.leaseHeld()) throw new LeaseRunOutError();
  const response = await sendAttempt(agent, request, timeoutMs, signal);
  const durationMs = Date.now() - startedAt.getTime();
  const httpStatus = recordableStatus(response.end);
  const verdict = classifyResponse(response.end);
  if (verdict === 'success') {
    return {
      attempt: record('SUCCEEDED', httpStatus, null),
      result: { outcome: 'SUCCEEDED', output: response.body },
      request,
      durationMs,
    };
  }

  const detail = failureDetail(request, response);
  if (verdict === 'retryable' && budgetUsed < policy.maxAttempts) {
    const retryAfterMs = parseRetryAfter(response.retryAfter, Date.now());
    const delay =
      retryAfterMs !== undefined
        ? Math.min(policy.maxIntervalMs, retryAfterMs)
        : backoffDelayMs(policy, budgetUsed, random);
    return {
      // retryAfterMs: the wait came from the response's Retry-After (history and the console label the gap so)
      attempt: record(
        'RETRYABLE',
        httpStatus,
        retryAfterMs !== undefined ? { ...detail, retryAfterMs: delay } : detail,
      ),
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
