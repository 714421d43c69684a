import { describe, expect, it } from 'vitest';
import { uuidv7, uuidv7Time } from '../src/uuidv7.js';

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID carrying the millisecond time', () => {
    const now = Date.UTC(2026, 10, 26, 16, 0, 0, 123);
    const id = uuidv7(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Time(id)).toBe(now);
  });

  it('sorts by time across milliseconds and is unique within one', () => {
    const ids = [uuidv7(1_000), uuidv7(1_001), uuidv7(2_000_000_000_000), uuidv7(2_000_000_000_001)];
    expect([...ids].sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 10_000 }, () => uuidv7(5)));
    expect(same.size).toBe(10_000);
  });
});
