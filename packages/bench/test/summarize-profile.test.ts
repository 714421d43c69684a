import { describe, expect, it } from 'vitest';
import {
  classifyUrl,
  formatProfileSummary,
  profiledProcessCpuSeconds,
  summarizeProfile,
  type CpuProfile,
} from '../src/summarize-profile.js';

describe('summarizeProfile', () => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3, 4] },
      { id: 2, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
      {
        id: 3,
        callFrame: {
          functionName: 'parse',
          url: 'file:///r/node_modules/.pnpm/pg-protocol@1.0.0/node_modules/pg-protocol/dist/parser.js',
          lineNumber: 9,
        },
      },
      {
        id: 4,
        callFrame: {
          functionName: 'completeItem',
          url: 'file:///r/packages/db/src/queries/complete-item.ts',
          lineNumber: 40,
        },
      },
    ],
    startTime: 0,
    endTime: 10_000,
    // each sample owns the time until the next one: 3 → 3000 µs, 4 → 1000 µs, 2 → 6000 µs
    samples: [3, 4, 2],
    timeDeltas: [0, 3000, 1000],
  };

  it('attributes self time per function and per package, idle left out of the shares', () => {
    const summary = summarizeProfile(profile);
    expect(summary).toMatchObject({ totalMs: 10, idleMs: 6, busyMs: 4 });
    expect(summary.functions).toEqual([
      { name: 'parse pg-protocol/dist/parser.js:10', selfMs: 3, pct: 75 },
      { name: 'completeItem packages/db/src/queries/complete-item.ts:41', selfMs: 1, pct: 25 },
    ]);
    expect(summary.packages.map((p) => p.name)).toEqual(['pg-protocol', 'packages/db']);
    expect(summary.nativeByCaller).toEqual([]);
  });

  it('charges native self time to the nearest calling package', () => {
    const withNative: CpuProfile = {
      ...profile,
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3] },
        { id: 2, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
        {
          id: 3,
          callFrame: {
            functionName: 'send',
            url: 'file:///r/node_modules/.pnpm/pg@8.0.0/node_modules/pg/lib/connection.js',
            lineNumber: 1,
          },
          children: [4],
        },
        { id: 4, callFrame: { functionName: 'write', url: 'node:net', lineNumber: 1 }, children: [5] },
        { id: 5, callFrame: { functionName: 'writev', url: '', lineNumber: -1 } },
      ],
      samples: [5, 3, 2],
    };
    expect(summarizeProfile(withNative).nativeByCaller).toEqual([{ name: 'writev ← pg', selfMs: 3, pct: 75 }]);
  });

  it('classifies script URLs', () => {
    expect(classifyUrl('node:internal/streams/readable')).toBe('node:internal/streams');
    expect(classifyUrl('file:///r/node_modules/.pnpm/@fastify+otel@0.21.2/node_modules/@fastify/otel/index.js')).toBe(
      '@fastify/otel',
    );
    expect(classifyUrl('file:///r/services/engine/src/engine.ts')).toBe('services/engine');
    expect(classifyUrl('')).toBe('(native/V8)');
  });

  it("names the profiled process's CPU beside the wall-clock busy time", () => {
    const cpu = { api: 1.3, engines: [1.84, 0.9] };
    expect(profiledProcessCpuSeconds('/b/profiles/burst-1/api/CPU.1.cpuprofile', cpu)).toBe(1.3);
    expect(profiledProcessCpuSeconds('/b/profiles/burst-1/engine-2/CPU.2.cpuprofile', cpu)).toBe(0.9);
    expect(profiledProcessCpuSeconds('/b/profiles/burst-1/downstream/CPU.3.cpuprofile', cpu)).toBeUndefined();
    const summary = { totalMs: 3043, busyMs: 1832, idleMs: 1211, functions: [], packages: [], nativeByCaller: [] };
    expect(formatProfileSummary(summary, 1.3).split('\n')[0]).toBe(
      "profile: 3043 ms sampled, 1832 ms busy, 1211 ms idle; the process's CPU in the same window (all threads): " +
        '1300 ms — "busy" is wall-clock time, preemption included',
    );
    expect(formatProfileSummary(summary).split('\n')[0]).toBe('profile: 3043 ms sampled, 1832 ms busy, 1211 ms idle');
  });
});
