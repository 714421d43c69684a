import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@sagaflow/testkit';

/** One request as the downstream saw it. */
export interface SeenRequest {
  /** 1-based arrival order */
  seq: number;
  path: string;
  key: string;
  attempt: number;
  body: unknown;
  arrivedAt: number;
  /** the client went away before an answer was written (e.g. its engine was killed) */
  abandoned: boolean;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** answer this long after arrival (a slow service, not test synchronisation) */
  delayMs?: number;
}

/** What the script decides for a request: an answer, or hold it until `release`. */
export type Decision = Reply | 'hold';

type Script = (request: SeenRequest, seenForKey: number) => Decision;

/**
 * A deduplicating loopback service for crash tests: it records every request, answers per a script,
 * can hold single requests until the test releases them, and applies each idempotency key's effect once —
 * a repeated key gets the stored answer of the first 2xx (SPEC §11: at least once + dedup = exactly once).
 * Unlike helpers/downstream.ts (path-wide holds), it releases one request at a time with a chosen answer
 * and notices when the client went away (a killed engine), which the crash tests assert on.
 */
export interface DeduplicatingDownstream {
  readonly url: string;
  requests(): SeenRequest[];
  /** how many times the effect of each key was applied (first 2xx answer); dedup makes it 0 or 1 */
  effects(): Map<string, number>;
  setScript(script: Script): void;
  /** polls until a request matching `match` has arrived */
  waitForRequest(match: (r: SeenRequest) => boolean, timeoutMs?: number): Promise<SeenRequest>;
  /** answers a held request (the answer is lost when its client is gone; the effect still happens) */
  release(seq: number, reply?: Reply): void;
  close(): Promise<void>;
}

const readBody = async (req: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
};

export async function startDeduplicatingDownstream(): Promise<DeduplicatingDownstream> {
  const seen: SeenRequest[] = [];
  const perKey = new Map<string, number>();
  const stored = new Map<string, Reply>();
  const effects = new Map<string, number>();
  const held = new Map<number, (reply: Reply) => void>();
  let script: Script = () => ({ status: 200, body: { ok: true } });

  const answer = (request: SeenRequest, res: ServerResponse, reply: Reply): void => {
    let sent = reply;
    const first = stored.get(request.key);
    if (first) {
      sent = first;
    } else if (reply.status >= 200 && reply.status < 300) {
      stored.set(request.key, reply);
      effects.set(request.key, (effects.get(request.key) ?? 0) + 1);
    }
    if (res.destroyed) return;
    res.writeHead(sent.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(sent.body ?? {}));
  };

  const server = createServer((req, res) => {
    res.on('error', () => {});
    void readBody(req).then((body) => {
      const key = String(req.headers['x-idempotency-key'] ?? '');
      const count = (perKey.get(key) ?? 0) + 1;
      perKey.set(key, count);
      const request: SeenRequest = {
        seq: seen.length + 1,
        path: new URL(req.url ?? '/', 'http://downstream').pathname,
        key,
        attempt: Number(req.headers['x-sagaflow-attempt']),
        body,
        arrivedAt: Date.now(),
        abandoned: false,
      };
      seen.push(request);
      res.on('close', () => {
        if (!res.writableEnded) request.abandoned = true;
      });
      const decision = script(request, count);
      if (decision === 'hold') {
        held.set(request.seq, (reply) => answer(request, res, reply));
      } else if (decision.delayMs) {
        setTimeout(() => answer(request, res, decision), decision.delayMs);
      } else {
        answer(request, res, decision);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => [...seen],
    effects: () => new Map(effects),
    setScript: (next) => {
      script = next;
    },
    waitForRequest: (match, timeoutMs = 15_000) =>
      waitFor(() => seen.find(match), { timeoutMs, intervalMs: 20, description: 'a matching downstream request' }),
    release: (seq, reply = { status: 200, body: { ok: true } }) => {
      const resolve = held.get(seq);
      if (!resolve) throw new Error(`request ${seq} is not held`);
      held.delete(seq);
      resolve(reply);
    },
    close: async () => {
      for (const [seq] of held) held.get(seq)?.({ status: 503 });
      held.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
