import { describe, expect, it } from 'vitest';
import { compareVersions, latestVersion } from '../src/index.js';

describe('compareVersions', () => {
  it.each([
    ['1.10.0', '1.2.0'],
    ['2.0.0', '1.99.99'],
    ['1.0.10', '1.0.9'],
    ['10.0.0', '9.0.0'],
    ['1.0.0', '1.0.0-rc.1'],
    ['1.0.0-rc.1', '1.0.0-beta.11'],
    ['1.0.0-beta.11', '1.0.0-beta.2'],
    ['1.0.0-beta.2', '1.0.0-beta'],
    ['1.0.0-beta', '1.0.0-alpha.beta'],
    ['1.0.0-alpha.beta', '1.0.0-alpha.1'],
    ['1.0.0-alpha.1', '1.0.0-alpha'],
    ['1.0.0-alpha.a', '1.0.0-alpha.999'],
    ['1.1.0-alpha', '1.0.0'],
    ['9007199254740991.0.0', '9007199254740990.0.0'],
  ])('%s > %s', (higher, lower) => {
    expect(compareVersions(higher, lower)).toBeGreaterThan(0);
    expect(compareVersions(lower, higher)).toBeLessThan(0);
  });

  it('treats equal versions and build metadata as equal precedence', () => {
    expect(compareVersions('1.2.3', '1.2.3')).toBe(0);
    expect(compareVersions('1.2.3+build.1', '1.2.3+build.2')).toBe(0);
    expect(compareVersions('1.2.3-rc.1+a', '1.2.3-rc.1')).toBe(0);
  });

  it('sorts the semver.org example list', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ];
    expect([...ordered].reverse().sort(compareVersions)).toEqual(ordered);
  });

  it('throws for a string that is not semver', () => {
    expect(() => compareVersions('1.0', '1.0.0')).toThrow(TypeError);
    expect(() => compareVersions('1.0.0', 'latest')).toThrow('invalid semver version "latest"');
    // laxer forms the semver package alone would take, and numbers past its 2^53 − 1 limit
    expect(() => compareVersions('v1.0.0', '1.0.0')).toThrow(TypeError);
    expect(() => compareVersions('99999999999999999999.0.0', '1.0.0')).toThrow(TypeError);
  });
});

describe('latestVersion', () => {
  it('picks the highest by precedence, not by string order', () => {
    expect(latestVersion(['1.2.0', '1.10.0', '1.9.9'])).toBe('1.10.0');
    expect(latestVersion(['1.0.0', '1.0.0-rc.1'])).toBe('1.0.0');
    expect(latestVersion(['1.0.0', '1.1.0-beta'])).toBe('1.1.0-beta');
  });

  it('is undefined for an empty list and the only element for one', () => {
    expect(latestVersion([])).toBeUndefined();
    expect(latestVersion(['0.0.1'])).toBe('0.0.1');
  });

  it('does not depend on input order when builds tie', () => {
    expect(latestVersion(['1.0.0+a', '1.0.0+b'])).toBe(latestVersion(['1.0.0+b', '1.0.0+a']));
  });

  it('throws for an invalid version anywhere in the list', () => {
    expect(() => latestVersion(['nope'])).toThrow(TypeError);
    expect(() => latestVersion(['1.0.0', 'nope'])).toThrow(TypeError);
  });
});
