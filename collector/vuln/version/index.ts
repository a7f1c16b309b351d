import * as dpkg from './dpkg.js';
import * as rpm from './rpm.js';
import * as sv from './semver.js';
import type { VersionOrder } from './types.js';

export type { Ordering, VersionOrder } from './types.js';
export { dpkg, rpm, sv as semver };

export const DPKG_ORDER: VersionOrder = { name: 'dpkg', compare: dpkg.compare, problem: dpkg.dpkgVersionProblem };
export const RPM_ORDER: VersionOrder = { name: 'rpm', compare: rpm.compare, problem: rpm.rpmVersionProblem };
export const SEMVER_ORDER: VersionOrder = { name: 'semver', compare: sv.compare, problem: sv.semverProblem };
