import { request as undiciRequest, type Agent } from 'undici';
import type { AttemptEnd } from './classify-response.js';
import type { AttemptRequest } from './build-request.js';
import { isDestinationRefused } from './downstream-agent.js';

export const OUTPUT_CAP_BYTES = 256 * 1024;

export interface AttemptResponse {
  end: AttemptEnd;
  /** parsed JSON, or text capped at 256 KiB; undefined without a response */
  body?: unknown;
  retryAfter?: string | undefined;
  errorMessage?: string;
}

async function readCapped(body: AsyncIterable<Buffer>): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body) {
    if (size + chunk.length > OUTPUT_CAP_BYTES) {
      chunks.push(chunk.subarray(0, OUTPUT_CAP_BYTES - size));
      truncated = true;
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

function parseOutput(text: string, truncated: boolean, contentType: string | undefined): unknown {
  if (text === '') return null;
  if (!truncated && (contentType?.includes('json') ?? true)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * Sends one attempt; never throws: a timeout or a broken connection is an AttemptEnd too. The timeout is a plain timer
 * cleared when the attempt ends (AbortSignal.timeout would keep a timer and weak references alive for the whole
 * timeout after every attempt: tens of thousands at full speed).
 */
export async function sendAttempt(
  agent: Agent,
  req: AttemptRequest,
  timeoutMs: number,
  abort?: AbortSignal,
): Promise<AttemptResponse> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`no response within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const onAbort = (): void => controller.abort(abort?.reason);
  if (abort?.aborted) onAbort();
  else abort?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await undiciRequest(req.url, {
      dispatcher: agent,
      method: req.method as 'POST',
      headers: req.headers,
      body: req.body,
      signal: controller.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const { text, truncated } = await readCapped(res.body);
    if (truncated) res.body.destroy();
    const contentType = res.headers['content-type'];
    return {
      end: { type: 'response', status: res.statusCode },
      body: parseOutput(text, truncated, Array.isArray(contentType) ? contentType[0] : contentType),
      retryAfter: Array.isArray(res.headers['retry-after'])
        ? res.headers['retry-after'][0]
        : res.headers['retry-after'],
    };
  } catch (error) {
    if (timedOut) return { end: { type: 'timeout' }, errorMessage: `no response within ${timeoutMs} ms` };
    if (isDestinationRefused(error)) return { end: { type: 'refused' }, errorMessage: error.message };
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { end: { type: 'connection-error' }, errorMessage: message };
  } finally {
    clearTimeout(timer);
    abort?.removeEventListener('abort', onAbort);
  }
}
