import { storableText } from '@sagaflow/db';
import { errors, request as undiciRequest, type Agent } from 'undici';
import type { AttemptEnd } from './classify-response.js';
import type { AttemptRequest } from './build-request.js';
import { Cancel } from './cancel.js';
import { isDestinationRefused } from './downstream-agent.js';
import { storableOutput } from './storable-output.js';

export const OUTPUT_CAP_BYTES = 256 * 1024;

export interface AttemptResponse {
  end: AttemptEnd;
  /** parsed JSON, or text capped at 256 KiB, always storable (see storableOutput); undefined without a response */
  body?: unknown;
  retryAfter?: string | undefined;
  /** storable text */
  errorMessage?: string;
}

async function readCapped(body: AsyncIterable<Buffer>): Promise<{ bytes: Buffer; truncated: boolean }> {
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
  return { bytes: Buffer.concat(chunks), truncated };
}

/** undici's own words for a 100 or 101 it did not ask for: the downstream sent no final answer. */
function isUnrequestedInformational(error: unknown): boolean {
  return error instanceof errors.SocketError && (error.message === 'bad response' || error.message === 'bad upgrade');
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
  abort?: Cancel,
): Promise<AttemptResponse> {
  const cancel = new Cancel();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    cancel.abort(new DOMException(`no response within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const onAbort = (): void => cancel.abort(abort?.reason);
  /** the last 1xx seen, until a final status arrives */
  let informational: number | undefined;
  let answered = false;
  if (abort?.aborted) onAbort();
  else abort?.once('abort', onAbort);
  try {
    const res = await undiciRequest(req.url, {
      dispatcher: agent,
      method: req.method as 'POST',
      headers: req.headers,
      body: req.body,
      signal: cancel,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      onInfo: ({ statusCode }) => {
        informational = statusCode;
      },
    });
    answered = true;
    const { bytes, truncated } = await readCapped(res.body);
    if (truncated) res.body.destroy();
    const contentType = res.headers['content-type'];
    return {
      end: { type: 'response', status: res.statusCode },
      body: storableOutput(bytes, {
        truncated,
        contentType: Array.isArray(contentType) ? contentType[0] : contentType,
      }),
      retryAfter: Array.isArray(res.headers['retry-after'])
        ? res.headers['retry-after'][0]
        : res.headers['retry-after'],
    };
  } catch (error) {
    if (timedOut) return { end: { type: 'timeout' }, errorMessage: `no response within ${timeoutMs} ms` };
    if (isDestinationRefused(error)) return { end: { type: 'refused' }, errorMessage: storableText(error.message) };
    const message = storableText(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    if (!answered && (informational !== undefined || isUnrequestedInformational(error))) {
      const status = informational === undefined ? 'an informational status (1xx)' : `status ${informational}`;
      return {
        end: { type: 'no-final-response', ...(informational === undefined ? {} : { informational }) },
        errorMessage: `answered ${status} and no final response (${message})`,
      };
    }
    return { end: { type: 'connection-error' }, errorMessage: message };
  } finally {
    clearTimeout(timer);
    abort?.removeListener('abort', onAbort);
  }
}
