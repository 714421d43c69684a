import { Agent, request } from 'node:http';

/** A request exactly as the fuzzer built it: the body is sent byte for byte, the path as given. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** the raw body text (not necessarily JSON), or none */
  body?: string;
}

export interface RawResponse {
  status: number;
  contentType: string | undefined;
  text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/**
 * Sends one request over a keep-alive connection and reads the whole answer. Rejects on a connection-level
 * failure (the caller decides whether that is acceptable).
 */
export function sendRaw(baseUrl: string, raw: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const body = raw.body === undefined ? undefined : Buffer.from(raw.body, 'utf8');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: raw.method,
        path: raw.path,
        agent,
        headers: { ...raw.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Closes the keep-alive connections. */
export function closeRawConnections(): void {
  agent.destroy();
}
