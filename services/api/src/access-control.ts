import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { isAdminTokenValid } from './admin-token.js';
import { findApiKey, hasRole, keyIdOf, type ApiKey, type Role } from './api-keys.js';
import type { RateLimitPolicy } from './rate-limit.js';

/**
 * Who may call what (SPEC §14, docs/security.md). Every endpoint declares the role it needs (`meta.role` of its tRPC
 * procedure, `'client'` for the event stream); `authorize` decides for one request:
 * - with SAGAFLOW_API_KEYS: `authorization: Bearer <key>` (or `x-admin-token`, an admin) is required everywhere under
 *   /v1 — missing or unknown → 401, a role too low → 403;
 * - without: the non-admin endpoints are open, the admin ones need `x-admin-token` (401).
 * Failed credential checks count against a per-client budget (the admin rate limit's policy): past it, every request
 * that carries a credential gets 429 until the window ends, so keys cannot be guessed one request after another.
 */

/** What an endpoint needs: a role, or nothing at all (`public`: /health, /ready; never under /v1). */
export type Access = Role | 'public';

type Caller =
  | { kind: 'anonymous' }
  | { kind: 'invalid' }
  | { kind: 'key'; role: Role; keyId: string }
  | { kind: 'admin-token'; role: 'admin'; keyId: string };

/** The caller of an allowed request, as procedures see it. */
export interface Principal {
  /** undefined: nobody identified (an open endpoint without SAGAFLOW_API_KEYS) */
  role: Role | undefined;
  /** the non-secret id of the key (or admin token) used; for logs */
  keyId: string | undefined;
  /** what start scopes idempotency keys with: the key id when API keys are on, otherwise undefined */
  idempotencyScope: string | undefined;
}

export type AccessResult =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403 | 429; code: 'UNAUTHORIZED' | 'FORBIDDEN' | 'TOO_MANY_REQUESTS'; message: string };

export interface AccessSettings {
  keys: readonly ApiKey[];
  adminToken: string | undefined;
}

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether the header `name` (lower case) was sent more than once. Node keeps only the first `authorization` in
 * `request.headers` (it joins repeated `x-admin-token`s with ", "), so a right key followed by a wrong one would pass:
 * only the raw headers show every occurrence.
 */
function isRepeated(request: FastifyRequest, name: string): boolean {
  const raw = request.raw.rawHeaders;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name && ++seen > 1) return true;
  return false;
}

/**
 * The credentials a request presents, checked: any wrong one makes the caller `invalid`, and so does a credential
 * header sent twice (even with the same value); otherwise the highest role presented. The bearer header is only read
 * when API keys are configured (without them, it is someone else's).
 */
function resolveCaller(settings: AccessSettings, adminTokenId: string | undefined, request: FastifyRequest): Caller {
  const authorization = settings.keys.length > 0 ? header(request, 'authorization') : undefined;
  const adminToken = header(request, 'x-admin-token');
  let caller: Caller = { kind: 'anonymous' };
  if (authorization !== undefined) {
    if (isRepeated(request, 'authorization')) return { kind: 'invalid' };
    const key = findApiKey(settings.keys, BEARER.exec(authorization)?.[1] ?? '');
    if (!key) return { kind: 'invalid' };
    caller = { kind: 'key', role: key.role, keyId: key.id };
  }
  if (adminToken !== undefined) {
    if (isRepeated(request, 'x-admin-token')) return { kind: 'invalid' };
    if (!isAdminTokenValid(settings.adminToken, adminToken)) return { kind: 'invalid' };
    caller = { kind: 'admin-token', role: 'admin', keyId: adminTokenId! };
  }
  return caller;
}

type Refusal = Extract<AccessResult, { ok: false }>;

const refuse = (status: Refusal['status'], code: Refusal['code'], message: string): Refusal => ({
  ok: false,
  status,
  code,
  message,
});

/** The decision without the rate limit: pure, for every access × keys on/off × caller. */
function decide(access: Access, keysEnabled: boolean, caller: Caller): AccessResult {
  const identified = caller.kind === 'key' || caller.kind === 'admin-token';
  const principal: Principal = {
    role: identified ? caller.role : undefined,
    keyId: identified ? caller.keyId : undefined,
    idempotencyScope: keysEnabled && identified ? caller.keyId : undefined,
  };
  if (access === 'public' || (!keysEnabled && access !== 'admin')) {
    // open: a wrong admin token here is not an error (it is not what this endpoint checks)
    return { ok: true, principal: caller.kind === 'invalid' ? { ...principal, role: undefined } : principal };
  }
  if (!keysEnabled) {
    return caller.kind === 'admin-token'
      ? { ok: true, principal }
      : refuse(401, 'UNAUTHORIZED', 'missing or invalid x-admin-token');
  }
  if (caller.kind === 'anonymous') {
    return refuse(401, 'UNAUTHORIZED', 'missing API key: send authorization: Bearer <key>');
  }
  if (caller.kind === 'invalid') return refuse(401, 'UNAUTHORIZED', 'invalid API key or x-admin-token');
  if (!hasRole(caller.role, access)) {
    return refuse(403, 'FORBIDDEN', `this endpoint needs the ${access} role; the key used has the ${caller.role} role`);
  }
  return { ok: true, principal };
}

export interface AccessControl {
  readonly keysEnabled: boolean;
  /** Decides whether `request` may call an endpoint that needs `access`; a 429 also sets Retry-After on `reply`. */
  authorize(request: FastifyRequest, reply: FastifyReply, access: Access): Promise<AccessResult>;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

export const DEFAULT_AUTH_FAILURE_NAMESPACE = 'sagaflow:rate-limit:auth-failures:';

/**
 * Builds the access control of `app`, with its failed-credential limiter (@fastify/rate-limit's manual limiter, in
 * its own plugin scope: Redis when given, so every API instance shares one budget; in memory otherwise).
 */
export function createAccessControl(
  app: FastifyInstance,
  options: AccessSettings & { policy: RateLimitPolicy; redis?: Redis; nameSpace?: string },
): AccessControl {
  const keysEnabled = options.keys.length > 0;
  const adminTokenId = options.adminToken ? keyIdOf(options.adminToken) : undefined;
  let limiter: Limiter | undefined;
  void app.register(async (scope) => {
    await scope.register(fastifyRateLimit, {
      global: false,
      max: options.policy.max,
      timeWindow: options.policy.windowMs,
      // a Redis outage must not stop every request: the credentials are still checked, only not counted
      skipOnError: true,
      ...(options.redis
        ? { redis: options.redis, nameSpace: options.nameSpace ?? DEFAULT_AUTH_FAILURE_NAMESPACE }
        : {}),
    });
    limiter = scope.createRateLimit();
  });

  return {
    keysEnabled,
    async authorize(request, reply, access) {
      if (access === 'public') return decide(access, keysEnabled, { kind: 'anonymous' });
      const caller = resolveCaller(options, adminTokenId, request);
      const checked = keysEnabled || access === 'admin';
      if (checked && caller.kind !== 'anonymous' && limiter) {
        const peek = await limiter(request, { increment: false });
        if (!peek.isAllowed && peek.remaining === 0 && peek.ttl > 0) {
          const seconds = Math.max(1, peek.ttlInSeconds);
          void reply.header('retry-after', String(seconds));
          request.log.warn({ access }, 'access refused: too many failed credential checks from this client');
          return refuse(429, 'TOO_MANY_REQUESTS', `too many failed credential checks, retry in ${seconds} s`);
        }
      }
      const result = decide(access, keysEnabled, caller);
      if (!result.ok) {
        if (caller.kind === 'invalid' && limiter) await limiter(request);
        if (keysEnabled && result.status === 401) void reply.header('www-authenticate', 'Bearer realm="sagaflow"');
        // never the credential itself: its id and role when it was a valid one
        const who =
          caller.kind === 'key' || caller.kind === 'admin-token' ? { role: caller.role, keyId: caller.keyId } : {};
        request.log.info({ access, status: result.status, caller: caller.kind, ...who }, 'access refused');
      }
      return result;
    },
  };
}
