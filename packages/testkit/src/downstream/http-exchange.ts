import type { IncomingMessage, ServerResponse } from 'node:http';

/** The request's body as text. */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Parsed JSON, the raw text when it is not JSON, undefined when empty. */
export function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A header's (first) value. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Writes an answer unless the client is gone: a string as text/plain, anything else as JSON, undefined as nothing. */
export function sendAnswer(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  if (res.destroyed) return;
  const isText = typeof body === 'string';
  const payload = body === undefined ? '' : isText ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...(payload === '' ? {} : { 'content-type': isText ? 'text/plain' : 'application/json' }),
    ...headers,
  });
  res.end(payload);
}
