import type * as Crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * Constant-time key comparison (docs/security.md): the presented key is hashed, so every comparison is of two 32-byte
 * digests whatever the key's length, and it is compared with every configured key, without stopping at a match.
 * `timingSafeEqual` is wrapped (not replaced) to count and measure the comparisons.
 */

const compared = vi.hoisted(() => ({ lengths: [] as Array<[number, number]> }));

vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof Crypto>();
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.lengths.push([a.byteLength, b.byteLength]);
      return crypto.timingSafeEqual(a, b);
    },
  };
});

const { findApiKey, hasRole, keyIdOf, parseApiKeys } = await import('../src/api-keys.js');
const { isAdminTokenValid } = await import('../src/admin-token.js');

const keys = parseApiKeys('client:first-key-aaaaaaaa,operator:second-key-bbbbbbbb,admin:third-key-cccccccc', {
  production: true,
});

beforeEach(() => {
  compared.lengths = [];
});

describe('findApiKey', () => {
  it('finds each key, and nothing for a wrong one, whatever its length', () => {
    expect(findApiKey(keys, 'first-key-aaaaaaaa')?.role).toBe('client');
    expect(findApiKey(keys, 'second-key-bbbbbbbb')?.role).toBe('operator');
    expect(findApiKey(keys, 'third-key-cccccccc')?.role).toBe('admin');
    for (const wrong of [
      '',
      'f',
      'first-key-aaaaaaa',
      'first-key-aaaaaaaaa',
      'x'.repeat(10_000),
      'FIRST-KEY-AAAAAAAA',
    ]) {
      expect(findApiKey(keys, wrong)).toBeUndefined();
    }
  });

  it('compares with every key, 32 bytes against 32 bytes, wherever the match is (or none)', () => {
    for (const presented of ['first-key-aaaaaaaa', 'third-key-cccccccc', 'nope', 'y'.repeat(5000)]) {
      compared.lengths = [];
      findApiKey(keys, presented);
      expect(compared.lengths, presented).toEqual([
        [32, 32],
        [32, 32],
        [32, 32],
      ]);
    }
  });

  it('the admin token is compared the same way (hashed, equal lengths)', () => {
    expect(isAdminTokenValid('the-admin-token-0000', 'the-admin-token-0000')).toBe(true);
    expect(isAdminTokenValid('the-admin-token-0000', 'short')).toBe(false);
    expect(compared.lengths).toEqual([
      [32, 32],
      [32, 32],
    ]);
  });
});

describe('roles and key ids', () => {
  it('client < operator < admin', () => {
    expect(hasRole('admin', 'operator')).toBe(true);
    expect(hasRole('operator', 'operator')).toBe(true);
    expect(hasRole('operator', 'admin')).toBe(false);
    expect(hasRole('client', 'operator')).toBe(false);
  });

  it('a key id is 16 hex digits of its SHA-256, and the parsed keys keep no key text', () => {
    expect(keys[0]!.id).toBe(keyIdOf('first-key-aaaaaaaa'));
    expect(keys[0]!.id).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(keys)).not.toMatch(/first-key|second-key|third-key/);
  });
});
