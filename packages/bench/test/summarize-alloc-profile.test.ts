import { describe, expect, it } from 'vitest';
import {
  formatAllocSummary,
  summarizeAllocProfile,
  type AllocProfile,
  type AllocProfileNode,
} from '../src/summarize-alloc-profile.js';

const node = (functionName: string, url: string, selfSize: number, children: AllocProfileNode[] = []) => ({
  callFrame: { functionName, url, lineNumber: 9 },
  selfSize,
  children,
});

describe('summarizeAllocProfile', () => {
  // (root) → tick → [launch (100) → child (300), flush → write (500) → write (200)], and a native frame (50)
  const profile: AllocProfile = {
    head: node('(root)', '', 0, [
      node('tick', 'file:///b/engine.mjs', 0, [
        node('launch', 'file:///b/engine.mjs', 100, [node('child', 'file:///b/pino.mjs', 300)]),
        node('flush', 'file:///b/engine.mjs', 0, [
          node('write', 'file:///b/pino.mjs', 500, [node('write', 'file:///b/pino.mjs', 200)]),
        ]),
      ]),
      node('(V8 API)', '', 50),
    ]),
  };

  it('sums what each function allocated itself and what was allocated while it was on the stack', () => {
    const summary = summarizeAllocProfile(profile);
    expect(summary.totalBytes).toBe(1150);
    expect(summary.self.map((e) => [e.frame, e.bytes])).toEqual([
      ['write pino.mjs:10', 700],
      ['child pino.mjs:10', 300],
      ['launch engine.mjs:10', 100],
      ['(V8 API) :10', 50],
    ]);
    const inclusive = Object.fromEntries(summary.inclusive.map((e) => [e.frame, e.bytes]));
    // a recursive function counts once per stack; frames without a script ((root), natives) are left out
    expect(inclusive).toEqual({
      'tick engine.mjs:10': 1100,
      'write pino.mjs:10': 700,
      'flush engine.mjs:10': 700,
      'launch engine.mjs:10': 400,
      'child pino.mjs:10': 300,
    });
    expect(summary.self[0]!.share).toBeCloseTo(700 / 1150);
  });

  it('keeps the top n of each list', () => {
    const summary = summarizeAllocProfile(profile, 2);
    expect(summary.self).toHaveLength(2);
    expect(summary.inclusive.map((e) => e.frame)).toEqual(['tick engine.mjs:10', 'write pino.mjs:10']);
  });

  it('formats both tables, with the bytes per unit', () => {
    const text = formatAllocSummary(summarizeAllocProfile(profile), { count: 2, unit: 'step' });
    expect(text).toContain('allocated in the window: 0.0 MB, 0.6 KiB per step');
    expect(text).toContain('| 0.0 | 60.9 | `write pino.mjs:10` |');
  });
});
