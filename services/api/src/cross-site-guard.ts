import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toErrorBody } from './errors.js';
import { discardRefusedBody } from './refused-body.js';

/**
 * docs/contract.md#security, cross-site requests. A web page can make a browser send a POST to an internal deployment, but it
 * cannot send `application/json` without a CORS preflight (which this API never grants). So every mutating
 * request must be JSON or carry no content type at all (curl's bodiless POST), and a request a browser marks
 * as coming from another site is refused:
 * - a content type other than application/json → 415 (forms, text/plain, multipart);
 * - `Sec-Fetch-Site: cross-site` → 403;
 * - an `Origin` other than the API's own host or one listed in SAGAFLOW_ALLOWED_ORIGINS → 403.
 * Clients that send neither header (curl, the SDK, the CLI) are unaffected. Runs in `onRequest`, before the
 * body is read.
 */

const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `application/json; charset=utf-8` → `application/json`. */
function mediaType(header: string): string {
  return (header.split(';')[0] ?? '').trim().toLowerCase();
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The API's own origin as the browser would name it: the Host the request was sent to. */
function isOwnOrigin(origin: string, request: FastifyRequest): boolean {
  try {
    const url = new URL(origin);
    // the Host header read under the origin's scheme, so `Host: api:80` matches `Origin: http://api`
    return url.host === new URL(`${url.protocol}//${request.host}`).host;
  } catch {
    return false; // `null` (sandboxed pages, file://) and garbage are never our own
  }
}

/** Why a mutating request is refused, or undefined when it may proceed. */
export function crossSiteRefusal(
  request: FastifyRequest,
  allowedOrigins: readonly string[],
): { status: 403 | 415; code: string; message: string } | undefined {
  if (!MUTATING_METHODS.has(request.method)) return undefined;
  const contentType = header(request, 'content-type');
  if (contentType !== undefined && mediaType(contentType) !== 'application/json') {
    return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported content-type: send application/json' };
  }
  if (header(request, 'sec-fetch-site')?.toLowerCase() === 'cross-site') {
    return { status: 403, code: 'FORBIDDEN', message: 'cross-site request refused (Sec-Fetch-Site: cross-site)' };
  }
  const origin = header(request, 'origin');
  if (origin !== undefined) {
    const normalized = origin.trim().toLowerCase().replace(/\/+$/, '');
    if (!isOwnOrigin(normalized, request) && !allowedOrigins.includes(normalized)) {
      return {
        status: 403,
        code: 'FORBIDDEN',
        message: `cross-site request refused: origin ${origin.slice(0, 200)} is not allowed (SAGAFLOW_ALLOWED_ORIGINS)`,
      };
    }
  }
  return undefined;
}

/** Refuses cross-site mutating requests on every route of `app` (403/415 `{ code, message }`). */
export function registerCrossSiteGuard(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const refusal = crossSiteRefusal(request, allowedOrigins);
    if (!refusal) return;
    discardRefusedBody(request, reply);
    return reply.code(refusal.status).send(toErrorBody(refusal.code, refusal.message));
  });
}
