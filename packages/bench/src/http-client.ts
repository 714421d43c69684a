import { Agent, request } from 'node:http';

export interface JsonResponse {
  status: number;
  body: unknown;
  /** wall-clock ms (sub-millisecond precision) when the request was sent / the response had arrived */
  sentAt: number;
  receivedAt: number;
}

export interface JsonClient {
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<JsonResponse>;
  get(path: string): Promise<JsonResponse>;
  close(): void;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** Wall-clock milliseconds with sub-millisecond precision (comparable with Postgres timestamps on this host). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A keep-alive JSON client over node:http (cheaper per request than fetch, so the bench leaves more CPU to the system). */
export function createJsonClient(baseUrl: string, maxSockets: number): JsonClient {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const base = new URL(baseUrl);
  const send = (method: string, path: string, body: unknown, headers: Record<string, string>): Promise<JsonResponse> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const sentAt = nowMs();
      const req = request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method,
          path,
          headers: {
            ...headers,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const receivedAt = nowMs();
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, sentAt, receivedAt });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(new Error(`${method} ${path}: no response within ${REQUEST_TIMEOUT_MS} ms`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  return {
    post: (path, body, headers = {}) => send('POST', path, body, headers),
    get: (path) => send('GET', path, undefined, {}),
    close: () => agent.destroy(),
  };
}
