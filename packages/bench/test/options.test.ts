import { describe, expect, it } from 'vitest';
import { parseBenchOptions, USAGE } from '../src/options.js';
import { buildScenario } from '../src/scenarios.js';

const URL = 'postgres://postgres@127.0.0.1:5432/postgres';

describe('parseBenchOptions --history', () => {
  it('defaults to 0 (an empty database)', () => {
    expect(parseBenchOptions([], URL).history).toBe(0);
  });

  it('takes a count of completed runs, 0 included', () => {
    expect(parseBenchOptions(['--history', '1000000'], URL).history).toBe(1_000_000);
    expect(parseBenchOptions(['--history=20000', '--scenario', 'burst'], URL)).toMatchObject({
      history: 20_000,
      scenarios: ['burst'],
    });
    expect(parseBenchOptions(['--history', '0'], URL).history).toBe(0);
  });

  it('rejects a negative, fractional or non-numeric count, naming the option', () => {
    expect(() => parseBenchOptions(['--history=-1'], URL)).toThrow(/--history must be an integer ≥ 0, got "-1"/);
    expect(() => parseBenchOptions(['--history', '-1'], URL)).toThrow(/--history/);
    expect(() => parseBenchOptions(['--history', '1.5'], URL)).toThrow(/--history must be an integer ≥ 0/);
    expect(() => parseBenchOptions(['--history', 'many'], URL)).toThrow(/--history must be an integer ≥ 0/);
  });

  it('needs a value and is in the usage text', () => {
    expect(() => parseBenchOptions(['--history'], URL)).toThrow(/history/);
    expect(USAGE).toMatch(/--history <n>/);
  });
});

describe('parseBenchOptions --sleeping', () => {
  it('defaults to 0 and takes a count', () => {
    expect(parseBenchOptions([], URL).sleeping).toBe(0);
    expect(parseBenchOptions(['--sleeping', '100000'], URL).sleeping).toBe(100_000);
    expect(() => parseBenchOptions(['--sleeping=-1'], URL)).toThrow('--sleeping must be an integer ≥ 0');
    expect(USAGE).toContain('--sleeping <n>');
  });
});

describe('parseBenchOptions --scenario', () => {
  it('runs the four "Performance" scenarios by default, the history budgets only by name', () => {
    expect(parseBenchOptions([], URL).scenarios).toEqual(['burst', 'compensation', 'latency', 'start-rate']);
    expect(parseBenchOptions(['--scenario', 'history-budgets'], URL).scenarios).toEqual([
      'history-cost',
      'events-read',
      'sse-delay',
      'sse-memory',
    ]);
    expect(parseBenchOptions(['--scenario', 'burst,sse-memory'], URL).scenarios).toEqual(['burst', 'sse-memory']);
    expect(() => parseBenchOptions(['--scenario', 'sse'], URL)).toThrow(/unknown scenario "sse"/);
    expect(USAGE).toMatch(/events-read .*p99/s);
  });

  it('runs bulk-redrive (issue #13) by name only, with 10,000 FAILED runs at 1,000/s unless --runs says otherwise', () => {
    expect(parseBenchOptions(['--scenario', 'bulk-redrive'], URL).scenarios).toEqual(['bulk-redrive']);
    expect(buildScenario('bulk-redrive')).toMatchObject({ failedRuns: 10_000, ratePerSecond: 1000, burstRuns: 3000 });
    expect(buildScenario('bulk-redrive', 500)).toMatchObject({ failedRuns: 500 });
    expect(USAGE).toMatch(/bulk-redrive .*COMPLETED/s);
  });

  it('runs every budget of SPEC §18 with --scenario budgets, each also by name', () => {
    expect(parseBenchOptions(['--scenario', 'budgets'], URL).scenarios).toEqual([
      'history-cost',
      'events-read',
      'sse-delay',
      'sse-memory',
      'search',
      'sleeping-burst',
      'bulk-redrive',
    ]);
    expect(parseBenchOptions(['--scenario', 'sleeping-burst,history-cost'], URL).scenarios).toEqual([
      'sleeping-burst',
      'history-cost',
    ]);
    expect(buildScenario('history-cost')).toMatchObject({ kind: 'history-cost', burstRuns: 2000 });
    expect(buildScenario('history-cost', 300)).toMatchObject({ burstRuns: 300 });
    expect(buildScenario('sleeping-burst')).toMatchObject({ sleepingRuns: 100_000, burstRuns: 2000, pairs: 3 });
    expect(buildScenario('sleeping-burst', 5000)).toMatchObject({ sleepingRuns: 5000, burstRuns: 2000 });
    expect(buildScenario('search')).toMatchObject({ storedRuns: 1_000_000, requests: 200 });
    expect(buildScenario('search', 50)).toMatchObject({ requests: 50 });
    expect(USAGE).toMatch(/history-cost .*trigger/s);
    expect(USAGE).toMatch(/search .*p99 ≤ 50 ms/s);
    expect(USAGE).toMatch(/sleeping-burst .*100,000/s);
  });
});

describe('parseBenchOptions --dist', () => {
  it('runs compiled bundles by default, the image dist with --dist, never both --dist and --sources', () => {
    expect(parseBenchOptions([], URL)).toMatchObject({ compiled: true, dist: false });
    expect(parseBenchOptions(['--dist'], URL)).toMatchObject({ dist: true });
    expect(parseBenchOptions(['--sources'], URL)).toMatchObject({ compiled: false, dist: false });
    expect(() => parseBenchOptions(['--dist', '--sources'], URL)).toThrow(/exclude each other/);
    expect(USAGE).toMatch(/--dist .*pnpm build/s);
  });
});

describe('parseBenchOptions --node-flag', () => {
  it('defaults to none and keeps each flag, in order, for API and engines', () => {
    expect(parseBenchOptions([], URL).nodeFlags).toEqual([]);
    expect(
      parseBenchOptions(['--node-flag=--optimize-for-size', '--node-flag=--max-semi-space-size=8'], URL).nodeFlags,
    ).toEqual(['--optimize-for-size', '--max-semi-space-size=8']);
    expect(USAGE).toContain('--node-flag=FLAG');
  });

  it('refuses a value that is not a flag, naming the option', () => {
    expect(() => parseBenchOptions(['--node-flag=optimize-for-size'], URL)).toThrow(
      '--node-flag needs a flag such as --max-semi-space-size=8, got "optimize-for-size"',
    );
    expect(() => parseBenchOptions(['--node-flag=-x'], URL)).toThrow(/--node-flag needs a flag/);
  });
});
