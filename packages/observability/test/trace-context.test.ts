import { describe, expect, it } from 'vitest';
import { childTraceParent, newTraceParent, randomHex } from '../src/trace-context.js';

describe('randomHex', () => {
  it('gives 2 × n hex digits, different every time, across refills of its pool', () => {
    const seen = new Set<string>();
    // 4 KiB pool: 3,000 × 8 bytes refills it five times, 3 bytes at a time makes a refill fall mid-request
    for (let i = 0; i < 3_000; i++) {
      const id = randomHex(8);
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      seen.add(id);
      expect(randomHex(3)).toMatch(/^[0-9a-f]{6}$/);
    }
    expect(seen.size).toBe(3_000);
  });
});

describe('trace parents', () => {
  it('starts a new sampled trace', () => {
    const a = newTraceParent();
    expect(a).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(newTraceParent()).not.toBe(a);
  });

  it("keeps the parent's trace id and flags with a fresh span id", () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    const child = childTraceParent(parent);
    expect(child).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
    expect(child).not.toBe(parent);
  });

  it('falls back to the given trace id, then to a fresh one', () => {
    const runTraceId = '0190f3a1b2c37d4e8f9a0b1c2d3e4f50';
    expect(childTraceParent('garbage', runTraceId)).toMatch(new RegExp(`^00-${runTraceId}-[0-9a-f]{16}-01$`));
    expect(childTraceParent(undefined)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
