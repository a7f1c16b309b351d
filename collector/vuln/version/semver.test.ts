import { describe, expect, it } from 'vitest';
import { isCanhGacError } from '../../../common/errors.js';
import { compare, isValidSemver, semverProblem } from './semver.js';

describe('semver order (OSV SEMVER ranges)', () => {
  it.each([
    ['1.0.0', '1.0.1', -1],
    ['1.9.0', '1.10.0', -1],
    ['1.0.0-rc.1', '1.0.0', -1],
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['1.0.0-alpha.beta', '1.0.0-beta', -1],
    ['1.0.0-2', '1.0.0-11', -1],
    ['1.0.0+build.1', '1.0.0+build.2', 0],
    ['2.0.0', '1.99.99', 1],
  ] as const)('%s vs %s = %i', (a, b, want) => {
    expect(compare(a, b)).toBe(want);
  });

  it('refuses what is not Semantic Versioning 2.0', () => {
    for (const v of ['v1.0.0', '1.0', '01.0.0', '1.0.0.0', '']) expect(isValidSemver(v), v).toBe(false);
    expect(semverProblem('1.0')).toMatch(/MAJOR.MINOR.PATCH/);
    try {
      compare('1.0', '1.0.0');
      expect.unreachable();
    } catch (e) {
      expect(isCanhGacError(e, 'COLLECTOR_VERSION_INVALID')).toBe(true);
    }
  });
});
