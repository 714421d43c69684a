import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { EffectRecord, RequestRecord } from '../invariants/types.js';
import { normalAnswer, type HostileAnswer, type HostileKind } from './hostile-answers.js';

/**
 * A deduplicating downstream that answers with raw bytes on 127.0.0.1:<ephemeral>, written on `net` because Node's
 * http server refuses most of what it must send (statuses outside 100–999, a 1xx with no final answer, hundreds of
 * KiB of headers). Self-contained: it reads the request itself (head, then content-length bytes of body).
 *
 * A script picks each request's answer. Deduplication by `X-Idempotency-Key`: the first `effect` or `lost` answer
 * applies the key's effect and stores what to replay (the answer itself, or a plain 200 when the answer was lost);
 * any later request for that key is answered from the store (a duplicate prevented), unless its answer is
 * `unavailable` (a gateway in front of the service). So the effects map holds one effect per key, with the output
 * SagaFlow must have stored for it.
 */

export interface HostileRequest extends RequestRecord {
  path: string;
  /** the case the script picked */
  answer: string;
  /** what kind of answer was sent: the case's, or `replay` when the dedup store answered */
  sent: HostileKind | 'replay' | 'pending';
  /** the whole answer was written */
  answered?: boolean;
}

interface StoredEffect extends EffectRecord {
  /** what a duplicate request gets */
  replay: HostileAnswer;
}

export type HostileScript = (request: HostileRequest) => HostileAnswer;

export interface HostileDownstream {
  readonly url: string;
  setScript(script: HostileScript): void;
  requests(): HostileRequest[];
  /** connections accepted so far */
  connections(): number;
  effects(): Map<string, EffectRecord>;
  close(): Promise<void>;
}

interface ParsedRequest {
  path: string;
  headers: Map<string, string>;
  body: unknown;
  /** bytes of `received` this request took */
  size: number;
}

/** The first request in `received` once its head and content-length bytes of body have arrived; undefined before. */
function parseRequest(received: Buffer): ParsedRequest | undefined {
  const end = received.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [requestLine = '', ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const length = Number(headers.get('content-length') ?? 0);
  if (received.length < end + 4 + length) return undefined;
  const text = received.subarray(end + 4, end + 4 + length).toString('utf8');
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = text;
  }
  const path = new URL(requestLine.split(' ')[1] ?? '/', 'http://hostile').pathname;
  return { path, headers, body, size: end + 4 + length };
}

function identityOf(parsed: ParsedRequest): Pick<RequestRecord, 'identity'> {
  const runId = parsed.headers.get('x-sagaflow-run-id');
  const stepId = parsed.headers.get('x-sagaflow-step-id');
  const kind = (parsed.body as { kind?: unknown } | null)?.kind;
  return runId && stepId && typeof kind === 'string' ? { identity: { runId, stepId, kind } } : {};
}

export async function startHostileDownstream(): Promise<HostileDownstream> {
  const seen: HostileRequest[] = [];
  const effects = new Map<string, StoredEffect>();
  const sockets = new Set<Socket>();
  let script: HostileScript = (r) => normalAnswer(r.key, r.seq);

  /** Writes the answer; false when the connection is done with (closed, or held open by a body that never ends). */
  const respond = (socket: Socket, request: HostileRequest): boolean => {
    let answer = script(request);
    request.answer = answer.name;
    const stored = effects.get(request.key);
    request.sent = answer.kind;
    if (stored && answer.kind !== 'unavailable') {
      request.replayed = true;
      request.sent = 'replay';
      answer = stored.replay;
    } else if (!stored && (answer.kind === 'effect' || answer.kind === 'lost')) {
      const replay = answer.kind === 'lost' ? normalAnswer(request.key, request.seq) : answer;
      effects.set(request.key, { body: replay.stored, replay });
      request.appliedEffect = true;
    }
    if (answer.connection === 'open') {
      socket.write(answer.bytes);
      return false;
    }
    const done = (): void => void (request.answered = true);
    if (answer.connection === 'close') socket.end(answer.bytes, done);
    else socket.write(answer.bytes, done);
    return answer.connection === 'keep-alive';
  };

  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    let received = Buffer.alloc(0);
    let request: HostileRequest | undefined;
    socket.on('close', () => {
      sockets.delete(socket);
      if (request && !request.answered) request.abandoned = true;
    });
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      for (let parsed = parseRequest(received); parsed; parsed = parseRequest(received)) {
        received = received.subarray(parsed.size);
        request = {
          seq: seen.length + 1,
          path: parsed.path,
          key: parsed.headers.get('x-idempotency-key') ?? '',
          attempt: Number(parsed.headers.get('x-sagaflow-attempt')),
          ...identityOf(parsed),
          arrivedAt: Date.now(),
          replayed: false,
          appliedEffect: false,
          abandoned: false,
          answer: 'pending',
          sent: 'pending',
        };
        seen.push(request);
        if (!respond(socket, request)) {
          socket.off('data', onData);
          return;
        }
      }
    };
    socket.on('data', onData);
  });
  // a deep accept queue: the engines open connections in bursts (answers that close them) on a busy machine
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    setScript: (next) => {
      script = next;
    },
    requests: () => [...seen],
    connections: () => accepted,
    effects: () => new Map([...effects].map(([key, effect]) => [key, { body: effect.body }])),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
