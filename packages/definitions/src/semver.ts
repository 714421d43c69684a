import semver from 'semver';

/**
 * Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH, optional -prerelease and +build (semver.org's own pattern).
 * Kept beside the `semver` package because that package is laxer on input: it also takes "v1.2.3", "=1.2.3" and
 * surrounding spaces, which a stored workflow version must not have.
 */
export const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** A version a workflow may carry: strict semver, with MAJOR, MINOR and PATCH at most 2^53 − 1 (the package's limit). */
export function isSemver(version: string): boolean {
  return SEMVER_PATTERN.test(version) && semver.valid(version) !== null;
}

function checked(version: string): string {
  if (!isSemver(version)) throw new TypeError(`invalid semver version "${version}"`);
  return version;
}

/**
 * Semver precedence: negative when a < b, 0 when equal, positive when a > b.
 * 1.10.0 > 1.2.0; a prerelease is lower than its release; build metadata is ignored.
 * Throws TypeError for a string that is not a semver version.
 */
export function compareVersions(a: string, b: string): number {
  return semver.compare(checked(a), checked(b));
}

/**
 * The highest version by semver precedence (prereleases included), undefined for an empty list.
 * Versions of equal precedence (differing only in build metadata) tie-break on the plain string, so the
 * answer does not depend on input order. Throws TypeError for an invalid version.
 */
export function latestVersion(versions: readonly string[]): string | undefined {
  let latest: string | undefined;
  for (const version of versions) {
    checked(version);
    if (latest === undefined) {
      latest = version;
      continue;
    }
    const order = semver.compare(version, latest);
    if (order > 0 || (order === 0 && version > latest)) latest = version;
  }
  return latest;
}
