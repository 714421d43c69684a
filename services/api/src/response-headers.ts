import type { FastifyReply } from 'fastify';

/** Whether `url` (path and query) is under /v1. */
function isV1(url: string): boolean {
  return url === '/v1' || url.startsWith('/v1/') || url.startsWith('/v1?');
}

/**
 * Headers every answer of the API carries (docs/security.md):
 * - `x-content-type-options: nosniff`, so a browser never reads a JSON answer (which may echo input) as HTML or script;
 * - on `/v1`, `cache-control: no-store`: runs carry input, context and outputs, and error bodies echo input, so no
 *   browser or shared cache may keep them. `/ui` and `/docs` set their own caching; `/health`, `/ready`, `/metrics`
 *   and `/openapi.json` keep none.
 * Set in the app's first `onRequest` hook (app.ts), so the early refusals (NUL in the URL, 415, cross-site 403, 401, 429) carry them
 * too; the router's own refusals (`answerFrameworkError`) call `setResponseHeaders` themselves, and the event stream,
 * which writes its head itself, names them in it.
 */
export function setResponseHeaders(reply: FastifyReply, url: string): void {
  void reply.header('x-content-type-options', 'nosniff');
  if (isV1(url)) void reply.header('cache-control', 'no-store');
}
