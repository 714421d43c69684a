import { describe, expect, it } from 'vitest';
import { describeDistribution, median, percentile } from '../src/percentiles.js';

describe('percentile (nearest rank)', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);

  it('picks the value at the rank', () => {
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it('is NaN without values', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('describeDistribution', () => {
  it('sorts before ranking', () => {
    const d = describeDistribution([5, 1, 4, 2, 3]);
    expect(d).toEqual({ count: 5, mean: 3, p50: 3, p95: 5, p99: 5, max: 5 });
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones, ignoring NaN', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 1, 3])).toBe(2);
    expect(median([])).toBeNaN();
  });
});
