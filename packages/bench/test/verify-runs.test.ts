import { describe, expect, it } from 'vitest';
import { actionKey, fnv1a32, isRejectedKey } from '../src/reject-rule.js';
import { verifyRuns, type RunRow, type StepRow } from '../src/verify-runs.js';

const run = (id: string, status: string): RunRow => ({ id, status, createdMs: 0, completedMs: 1 });
const step = (
  runId: string,
  stepId: string,
  status: string,
  compensationStatus: string,
  attempts = 1,
  compensationAttempts = 0,
): StepRow => ({
  runId,
  stepId,
  status,
  compensationStatus,
  attempts,
  compensationAttempts,
});
const completed = (id: string): StepRow[] => [
  step(id, 'charge', 'SUCCEEDED', 'PENDING'),
  step(id, 'reserve', 'SUCCEEDED', 'PENDING'),
  step(id, 'notify', 'SUCCEEDED', 'NONE'),
];
const compensated = (id: string): StepRow[] => [
  step(id, 'charge', 'SUCCEEDED', 'COMPENSATED', 1, 1),
  step(id, 'reserve', 'SUCCEEDED', 'COMPENSATED', 1, 1),
  step(id, 'notify', 'FAILED', 'NONE'),
];

describe('verifyRuns', () => {
  it('accepts runs that ended as the workload implies', () => {
    const verdict = verifyRuns(
      ['a', 'b'],
      [run('a', 'COMPLETED'), run('b', 'COMPENSATED')],
      [...completed('a'), ...compensated('b')],
      (id) => (id === 'b' ? 'COMPENSATED' : 'COMPLETED'),
    );
    expect(verdict).toEqual({ problems: [], warnings: [] });
  });

  it('reports a wrong run status, a wrong step state and a missing run', () => {
    const steps = [
      ...completed('a'),
      step('b', 'charge', 'SUCCEEDED', 'PENDING'),
      step('b', 'reserve', 'SUCCEEDED', 'COMPENSATED', 1, 1),
      step('b', 'notify', 'FAILED', 'NONE'),
    ];
    const verdict = verifyRuns(['a', 'b', 'c'], [run('a', 'FAILED'), run('b', 'COMPENSATED')], steps, (id) =>
      id === 'b' ? 'COMPENSATED' : 'COMPLETED',
    );
    expect(verdict.problems.join('\n')).toMatch(/1 submitted runs not in the database/);
    expect(verdict.problems.join('\n')).toMatch(/a is FAILED, expected COMPLETED/);
    expect(verdict.problems.join('\n')).toMatch(/b\/charge is SUCCEEDED\/PENDING, expected SUCCEEDED\/COMPENSATED/);
  });

  it('only warns about extra attempts (at-least-once delivery is legal)', () => {
    const steps = [step('a', 'charge', 'SUCCEEDED', 'PENDING', 2), ...completed('a').slice(1)];
    const verdict = verifyRuns(['a'], [run('a', 'COMPLETED')], steps, () => 'COMPLETED');
    expect(verdict.problems).toEqual([]);
    expect(verdict.warnings[0]).toMatch(/a\/charge took 2\+0 attempts/);
  });
});

describe('isRejectedKey', () => {
  it('is deterministic and close to the asked fraction', () => {
    const keys = Array.from({ length: 10_000 }, (_, i) =>
      actionKey(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 'notify'),
    );
    const rejected = keys.filter((key) => isRejectedKey(key, 100)).length;
    expect(rejected).toBeGreaterThan(900);
    expect(rejected).toBeLessThan(1100);
    expect(keys.filter((key) => isRejectedKey(key, 100)).length).toBe(rejected);
    expect(isRejectedKey(keys[0]!, 0)).toBe(false);
  });

  it('uses FNV-1a', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
  });
});
