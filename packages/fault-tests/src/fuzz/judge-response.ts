import type { RawResponse } from './raw-request.js';

/** Why a response breaks the API's error contract (docs/contract.md#errors), or undefined when it keeps it. Pure. */
export function judgeResponse(method: string, response: RawResponse): string | undefined {
  if (response.status >= 500) return `status ${response.status}`;
  if (method === 'HEAD' || response.status === 204) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return `status ${response.status} with a body that is not JSON`;
  }
  if (response.status < 400) return undefined;
  const shape = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (typeof shape['code'] !== 'string' || typeof shape['message'] !== 'string')
    return `status ${response.status} without { code, message }`;
  if (!response.contentType?.includes('application/json'))
    return `status ${response.status} with content-type ${String(response.contentType)}`;
  return undefined;
}

/** A short, printable description of a request, for failure reports. */
export function describeRequest(request: {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}): string {
  const body =
    request.body === undefined
      ? 'no body'
      : `${request.body.length} chars: ${JSON.stringify(request.body.slice(0, 160))}`;
  const path = request.path.length > 120 ? `${request.path.slice(0, 120)}…` : request.path;
  return `${request.method} ${path} ${JSON.stringify(request.headers).slice(0, 200)} ${body}`;
}
