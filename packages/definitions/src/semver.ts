/** Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH, optional -prerelease and +build (semver.org's own pattern). */
export const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

interface ParsedVersion {
  core: [string, string, string];
  prerelease: string[];
}

const NUMERIC = /^\d+$/;

function parseVersion(version: string): ParsedVersion {
  const match = SEMVER_PATTERN.exec(version);
  if (!match) throw new TypeError(`invalid semver version "${version}"`);
  const [, major = '0', minor = '0', patch = '0', prerelease] = match;
  return { core: [major, minor, patch], prerelease: prerelease ? prerelease.split('.') : [] };
}

/** Compares digit strings without leading zeros, so numbers past 2^53 still order correctly. */
function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIdentifiers(a: string, b: string): number {
  const aNumeric = NUMERIC.test(a);
  const bNumeric = NUMERIC.test(b);
  if (aNumeric && bNumeric) return compareDigits(a, b);
  if (aNumeric) return -1;
  if (bNumeric) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePrerelease(a: string[], b: string[]): number {
  if (a.length === 0 && b.length === 0) return 0;
  if (a.length === 0) return 1; // a release is higher than any of its prereleases
  if (b.length === 0) return -1;
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const order = compareIdentifiers(a[i] ?? '', b[i] ?? '');
    if (order !== 0) return order;
  }
  return Math.sign(a.length - b.length);
}

/**
 * Semver precedence: negative when a < b, 0 when equal, positive when a > b.
 * 1.10.0 > 1.2.0; a prerelease is lower than its release; build metadata is ignored.
 * Throws TypeError for a string that is not a semver version.
 */
export function compareVersions(a: string, b: string): number {
  const left = parseVersion(a);
  const right = parseVersion(b);
  for (let i = 0; i < 3; i += 1) {
    const order = compareDigits(left.core[i] ?? '0', right.core[i] ?? '0');
    if (order !== 0) return order;
  }
  return comparePrerelease(left.prerelease, right.prerelease);
}

/**
 * The highest version by semver precedence (prereleases included), undefined for an empty list.
 * Versions of equal precedence (differing only in build metadata) tie-break on the plain string, so the
 * answer does not depend on input order. Throws TypeError for an invalid version.
 */
export function latestVersion(versions: readonly string[]): string | undefined {
  let latest: string | undefined;
  for (const version of versions) {
    if (latest === undefined) {
      parseVersion(version);
      latest = version;
      continue;
    }
    const order = compareVersions(version, latest);
    if (order > 0 || (order === 0 && version > latest)) latest = version;
  }
  return latest;
}
