import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time check of the `x-admin-token` header. Both sides are hashed first so the buffers compared
 * with `timingSafeEqual` always have equal length and the comparison leaks neither content nor length.
 */
export function isAdminTokenValid(expected: string | undefined, given: string | undefined): boolean {
  if (!expected || !given) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
