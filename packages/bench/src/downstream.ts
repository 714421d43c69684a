// The bench downstream: its own process on loopback, answering POST /charge, /reserve, /notify, /refund and
// /release with 200 JSON at once; with BENCH_REJECT_PATH and BENCH_REJECT_PERMILLE it answers 422 on that path
// for a deterministic fraction of idempotency keys; with BENCH_DOWNSTREAM_DELAY_MS it answers that much later (a
// service that takes its time, so a run lasts long enough to be watched live: sse-delay). GET /_bench/stats returns the requests seen per path and status.
// Scripts may read process.env; this file is a child-process entry, not library code.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isRejectedKey } from './reject-rule.js';

const port = Number(process.env.BENCH_DOWNSTREAM_PORT ?? '0');
const rejectPath = process.env.BENCH_REJECT_PATH ?? '';
const rejectPermille = Number(process.env.BENCH_REJECT_PERMILLE ?? '0');
const delayMs = Number(process.env.BENCH_DOWNSTREAM_DELAY_MS ?? '0');
const PATHS = new Set(['/charge', '/reserve', '/notify', '/refund', '/release']);
const OK_BODY = JSON.stringify({ ok: true });
const REJECT_BODY = JSON.stringify({ error: 'rejected by the bench downstream' });

const counts: Record<string, number> = {};
const keysSeen = new Set<string>();
let duplicateKeys = 0;

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  if (req.method === 'GET' && path === '/_bench/stats') {
    answer(res, 200, JSON.stringify({ counts, duplicateKeys }));
    return;
  }
  if (req.method === 'GET' && path === '/health') {
    answer(res, 200, OK_BODY);
    return;
  }
  // drain the body (the envelope) before answering, as a real service would read it
  req.on('data', () => {});
  req.on('end', () => {
    if (req.method !== 'POST' || !PATHS.has(path)) {
      answer(res, 404, JSON.stringify({ error: 'not found' }));
      return;
    }
    const key = String(req.headers['x-idempotency-key'] ?? '');
    if (keysSeen.has(key)) duplicateKeys++;
    else keysSeen.add(key);
    const rejected = path === rejectPath && isRejectedKey(key, rejectPermille);
    const status = rejected ? 422 : 200;
    counts[`${path} ${status}`] = (counts[`${path} ${status}`] ?? 0) + 1;
    if (delayMs > 0) setTimeout(() => answer(res, status, rejected ? REJECT_BODY : OK_BODY), delayMs);
    else answer(res, status, rejected ? REJECT_BODY : OK_BODY);
  });
}

const server = createServer({ keepAliveTimeout: 60_000 }, handle);
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ msg: 'bench downstream listening', port: typeof address === 'object' && address ? address.port : port })}\n`,
  );
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
