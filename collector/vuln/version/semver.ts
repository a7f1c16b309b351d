/**
 * Semantic Versioning 2.0 order, for OSV ranges of type SEMVER. A thin layer over the
 * `semver` package (strict parsing: no leading "v", no loose forms).
 */
import semver from 'semver';
import { VulnCodes, VulnError } from '../errors.js';
import type { Ordering } from './types.js';

export function semverProblem(v: string): string | undefined {
  if (v.length === 0) return 'the version is empty';
  if (!/^[0-9]/.test(v) || /\s/.test(v)) return 'it must start with a digit and have no spaces (no leading "v")';
  if (semver.valid(v) === null) return 'it is not MAJOR.MINOR.PATCH[-prerelease][+build] (Semantic Versioning 2.0)';
  return undefined;
}

export function isValidSemver(v: string): boolean {
  return semverProblem(v) === undefined;
}

/** SemVer precedence; build metadata is ignored, as the specification says. */
export function compare(a: string, b: string): Ordering {
  for (const v of [a, b]) {
    const problem = semverProblem(v);
    if (problem !== undefined) {
      throw new VulnError(VulnCodes.VERSION_INVALID, `"${v}" is not a valid semantic version: ${problem}`, {
        hint: 'semantic versions look like 1.2.3 or 1.2.3-rc.1',
      });
    }
  }
  return semver.compare(a, b);
}
