/** Paths of the shipped test feed (test/fixtures/feed/) and the options it was built with. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trustedKeyFromPem, type TrustedKey } from '../trust.js';

const here = dirname(fileURLToPath(import.meta.url));
const up = join(here, '..', '..', '..');
/** Repository root (this file is collector/vuln/testing/fixtures.ts, or its compiled copy under dist/). */
export const REPO_ROOT = existsSync(join(up, 'test', 'fixtures', 'feed')) ? up : join(up, '..');
export const FEED_FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'feed');
export const TEST_BUNDLE = join(FEED_FIXTURES, 'test-bundle.cgfeed');
export const TEST_PUBLIC_KEY = join(FEED_FIXTURES, 'test-feed.pub');
/** TEST ONLY private key: it signs the test bundle and nothing else. */
export const TEST_PRIVATE_KEY = join(FEED_FIXTURES, 'test-feed.key');
export const TEST_OSV_DIR = join(FEED_FIXTURES, 'osv-debian-12');
export const TEST_OSV_UBUNTU_DIR = join(FEED_FIXTURES, 'osv-ubuntu');
export const TEST_OSV_ALMA_DIR = join(FEED_FIXTURES, 'osv-almalinux-9');
export const TEST_KEV = join(FEED_FIXTURES, 'kev-subset.json');
/** The Windows fixed-build table (built by scripts/feed/windows-builds from windows/*.json). */
export const TEST_WINDOWS_BUILDS = join(FEED_FIXTURES, 'windows-builds.json');

/** The `--osv` inputs of test-bundle.cgfeed, in order. */
export const TEST_OSV_INPUTS = [
  { ecosystem: 'Debian:12', path: TEST_OSV_DIR },
  { ecosystem: 'Ubuntu:22.04:LTS', path: TEST_OSV_UBUNTU_DIR },
  { ecosystem: 'Ubuntu:Pro:18.04:LTS', path: TEST_OSV_UBUNTU_DIR },
  { ecosystem: 'AlmaLinux:9', path: TEST_OSV_ALMA_DIR },
];

/** The exact build-bundle options of test-bundle.cgfeed (README.md gives the same command). */
export const TEST_BUNDLE_BUILD = {
  builtAt: new Date('2026-05-01T00:00:00Z'),
  retrievedAt: new Date('2026-04-30T12:00:00Z'),
  origin: {
    'osv-debian-12': 'OSV Debian records (haunvsec/osv-data mirror of the OSV Debian dump, commit 39d8062c; affected[] entries of other Debian releases removed)',
    'osv-ubuntu-22.04-lts': 'Ubuntu OSV record CVE-2024-0727 (canonical/ubuntu-security-notices osv/cve/2024, commit f7269e52; affected[] trimmed)',
    'osv-ubuntu-pro-18.04-lts': 'Ubuntu OSV record CVE-2024-0727 (canonical/ubuntu-security-notices osv/cve/2024, commit f7269e52; affected[] trimmed)',
    'osv-almalinux-9': 'AlmaLinux OSV records ALSA-2023:5453, ALSA-2024:2447, ALSA-2024:4312 (haunvsec/osv-data almalinux/, commit 39d8062c; ALSA-2023:5453 affected[] trimmed)',
    'cisa-kev': 'CISA Known Exploited Vulnerabilities catalogue (subset of 5 entries, re-typed)',
    'windows-builds': 'Windows fixed builds of 3 CVEs of May 2025 (MSRC CVRF 2025-May as mapped by ZentrixLabs/windows-version-feed, commit 09ae8fce)',
  },
};

export function testTrustedKey(): TrustedKey {
  return trustedKeyFromPem(readFileSync(TEST_PUBLIC_KEY), TEST_PUBLIC_KEY);
}

/** Every input and option of test-bundle.cgfeed (for build-bundle's `buildFromInputs`). */
export const TEST_BUNDLE_INPUTS = {
  keyFile: TEST_PRIVATE_KEY,
  osv: TEST_OSV_INPUTS,
  kev: TEST_KEV,
  windowsBuilds: TEST_WINDOWS_BUILDS,
  ...TEST_BUNDLE_BUILD,
};
