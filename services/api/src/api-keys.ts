import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * API keys (SAGAFLOW_API_KEYS, docs/security.md): `role:key` entries, roles client < operator < admin. Keys are kept
 * only as SHA-256 digests and compared in constant time; a key's id (the first 16 hex digits of its SHA-256) is not
 * secret: it scopes idempotency keys and names the caller in logs.
 */

export const ROLES = ['client', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  role: Role;
  /** sha256(key), first 16 hex digits: safe to store and log */
  id: string;
  /** sha256(key): what a presented key is compared with */
  digest: Buffer;
}

const MIN_PRODUCTION_KEY_LENGTH = 16;
/** Visible ASCII without the comma (the list separator): a key travels in an HTTP header. */
const KEY_PATTERN = /^[\x21-\x2b\x2d-\x7e]+$/;

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The non-secret id of a key (or of the admin token): the first 16 hex digits of its SHA-256. */
export function keyIdOf(secret: string): string {
  return sha256(secret).toString('hex').slice(0, 16);
}

/** Whether `role` may call an endpoint that needs `needed`: each role can do what the ones before it can. */
export function hasRole(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/**
 * SAGAFLOW_API_KEYS → keys. Throws an Error naming the bad entry by position and role, never by its key.
 * With `production`, every key must have at least 16 characters. A key equal to `adminToken` (ADMIN_TOKEN) is refused:
 * one secret would be two credentials, and rotating one would leave the other.
 */
export function parseApiKeys(
  value: string | undefined,
  options: { production: boolean; adminToken?: string | undefined },
): ApiKey[] {
  const entries = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const problems: string[] = [];
  const keys: ApiKey[] = [];
  const seen = new Set<string>();
  const adminTokenHex = options.adminToken ? sha256(options.adminToken).toString('hex') : undefined;
  entries.forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    const colon = entry.indexOf(':');
    const role = colon < 0 ? '' : entry.slice(0, colon).trim();
    const key = colon < 0 ? '' : entry.slice(colon + 1).trim();
    if (!(ROLES as readonly string[]).includes(role)) {
      problems.push(`${where}: expected role:key with role one of ${ROLES.join(', ')}`);
      return;
    }
    if (!KEY_PATTERN.test(key)) {
      problems.push(`${where} (${role}): the key must be visible ASCII characters without spaces or commas`);
      return;
    }
    if (options.production && key.length < MIN_PRODUCTION_KEY_LENGTH) {
      problems.push(
        `${where} (${role}): keys need at least ${MIN_PRODUCTION_KEY_LENGTH} characters when NODE_ENV=production`,
      );
      return;
    }
    const digest = sha256(key);
    const hex = digest.toString('hex');
    if (seen.has(hex)) {
      problems.push(`${where} (${role}): the same key is listed twice`);
      return;
    }
    if (hex === adminTokenHex) {
      problems.push(`${where} (${role}): the key is ADMIN_TOKEN; give API keys values of their own`);
      return;
    }
    seen.add(hex);
    keys.push({ role: role as Role, id: hex.slice(0, 16), digest });
  });
  if (problems.length > 0) throw new Error(`SAGAFLOW_API_KEYS: ${problems.join('; ')}`);
  return keys;
}

/**
 * The configured key equal to `presented`, in constant time: the presented key is hashed (equal lengths for
 * `timingSafeEqual`, whatever its length) and compared with EVERY key, without stopping at a match, so neither the
 * content, the length nor the position of a key shows in the time taken.
 */
export function findApiKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const digest = sha256(presented);
  let found: ApiKey | undefined;
  for (const key of keys) {
    const equal = timingSafeEqual(key.digest, digest);
    if (equal) found = key;
  }
  return found;
}
