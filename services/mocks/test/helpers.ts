import { randomUUID } from 'node:crypto';

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface EnvelopeOptions {
  runId?: string;
  stepId?: string;
  kind?: 'action' | 'compensation';
  compensationId?: string;
  attempt?: number;
  input?: Record<string, unknown>;
  steps?: Record<string, { output: unknown }>;
}

/** The body the engine sends when a step has no `body` template (docs/contract.md#envelope). */
export function buildEnvelope(options: EnvelopeOptions = {}): Record<string, unknown> {
  return {
    runId: options.runId ?? randomUUID(),
    workflowName: 'order-processing',
    workflowVersion: '1.0.0',
    stepId: options.stepId ?? 'charge-payment',
    kind: options.kind ?? 'action',
    ...(options.compensationId === undefined ? {} : { compensationId: options.compensationId }),
    attempt: options.attempt ?? 1,
    input: options.input ?? {},
    context: {},
    steps: options.steps ?? {},
  };
}

/** The headers the engine sends with an envelope (docs/contract.md#downstream-requests). */
export function buildHeaders(envelope: Record<string, unknown>): Record<string, string> {
  const runId = String(envelope.runId);
  const stepId = String(envelope.stepId);
  const suffix = envelope.kind === 'compensation' ? ':compensate' : '';
  return {
    'x-idempotency-key': `${runId}:${stepId}${suffix}`,
    'x-correlation-id': `corr-${runId}`,
    'x-sagaflow-run-id': runId,
    'x-sagaflow-step-id': stepId,
    'x-sagaflow-attempt': String(envelope.attempt ?? 1),
  };
}

/** POSTs raw text (or nothing) and returns status, headers and the parsed JSON body (null when empty). */
export async function postRaw(
  url: string,
  body: string | undefined,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<JsonResponse> {
  const response = await fetch(url, { method: 'POST', body, headers, signal });
  return { status: response.status, headers: response.headers, body: await readJson(response) };
}

/** POSTs a JSON body with the engine's headers for that envelope (unless `headers` overrides them). */
export async function postEnvelope(
  url: string,
  envelope: Record<string, unknown>,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<JsonResponse> {
  const allHeaders = { 'content-type': 'application/json', ...buildHeaders(envelope), ...headers };
  return postRaw(url, JSON.stringify(envelope), allHeaders, signal);
}

export async function getJson(url: string): Promise<JsonResponse> {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, body: await readJson(response) };
}

export async function readEffects(baseUrl: string): Promise<Array<Record<string, unknown>>> {
  const { body } = await getJson(`${baseUrl}/__effects`);
  return (body as { effects: Array<Record<string, unknown>> }).effects;
}

export async function readRequests(baseUrl: string): Promise<Array<Record<string, unknown>>> {
  const { body } = await getJson(`${baseUrl}/__requests`);
  return (body as { requests: Array<Record<string, unknown>> }).requests;
}

export async function resetMocks(urls: Record<string, string>): Promise<void> {
  await Promise.all(Object.values(urls).map((url) => fetch(`${url}/__reset`, { method: 'POST' })));
}

/** Polls `check` until it returns true, failing after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  return text === '' ? null : (JSON.parse(text) as unknown);
}
