import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { toErrorBody } from './errors.js';

/** services/console/dist, from services/api/src (tsx) and services/api/dist (compiled) alike. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../console/dist', import.meta.url));

/**
 * The console may load only its own files and call only this API (it is same-origin, no CDN, no fonts); it may not
 * be framed. Its JavaScript sets inline styles through the CSSOM (timeline bars), which style-src does not govern.
 */
const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function setConsoleHeaders(reply: FastifyReply, path: string): void {
  for (const [name, value] of Object.entries(CONSOLE_HEADERS)) void reply.header(name, value);
  // hashed file names under assets/ never change; index.html must be read again to find the new ones
  void reply.header(
    'cache-control',
    path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
  );
}

/**
 * The web console at /ui (docs/console.md): the static files `pnpm build` leaves in services/console/dist (their
 * precompressed .br/.gz when the client accepts one), and index.html for any other path under /ui/ (the console's own
 * routes: /ui/runs/…, shareable links). Not built → 503 with how to build it.
 */
export function registerConsole(app: FastifyInstance, dir: string = DEFAULT_CONSOLE_DIR): void {
  app.get('/ui', (_request, reply) => reply.redirect('/ui/', 301));
  if (!existsSync(join(dir, 'index.html'))) {
    const unbuilt = (reply: FastifyReply) =>
      reply
        .code(503)
        .send(toErrorBody('SERVICE_UNAVAILABLE', `the console is not built (no ${dir}/index.html): run pnpm build`));
    app.get('/ui/', (_request, reply) => unbuilt(reply));
    app.get('/ui/*', (_request, reply) => unbuilt(reply));
    return;
  }
  void app.register(fastifyStatic, {
    root: dir,
    prefix: '/ui/',
    // a route per file found now (the build does not change under a running API); other paths fall back below
    wildcard: false,
    index: ['index.html'],
    // the build writes a .br and a .gz beside each text file (services/console/vite.config.ts): sent as they are,
    // with content-encoding and `vary: accept-encoding`, to a client that accepts them; the plain file otherwise.
    // They are not routes of their own (a request for …/index-abc.js.gz is an unknown path, answered below)
    preCompressed: true,
    globIgnore: ['**/*.br', '**/*.gz'],
    cacheControl: false,
    setHeaders: (res, path) => setConsoleHeaders(res, path),
  });
  app.get('/ui/*', (_request, reply) => {
    setConsoleHeaders(reply, 'index.html');
    return reply.sendFile('index.html', dir);
  });
}
