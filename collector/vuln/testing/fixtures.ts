/** Paths of the shipped test feed (test/fixtures/feed/) and the options it was built with. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trustedKeyFromPem, type TrustedKey } from '../trust.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root (this file is collector/vuln/testing/fixtures.ts, or its compiled copy). */
export const REPO_ROOT = join(here, '..', '..', '..');
export const FEED_FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'feed');
export const TEST_BUNDLE = join(FEED_FIXTURES, 'test-bundle.cgfeed');
export const TEST_PUBLIC_KEY = join(FEED_FIXTURES, 'test-feed.pub');
/** TEST ONLY private key: it signs the test bundle and nothing else. */
export const TEST_PRIVATE_KEY = join(FEED_FIXTURES, 'test-feed.key');
export const TEST_OSV_DIR = join(FEED_FIXTURES, 'osv-debian-12');
export const TEST_KEV = join(FEED_FIXTURES, 'kev-subset.json');

/** The exact build-bundle options of test-bundle.cgfeed (README.md gives the same command). */
export const TEST_BUNDLE_BUILD = {
  builtAt: new Date('2026-05-01T00:00:00Z'),
  retrievedAt: new Date('2026-04-30T12:00:00Z'),
  origin: {
    'osv-debian-12': 'OSV Debian records (haunvsec/osv-data mirror of the OSV Debian dump, commit 39d8062c; affected[] entries of other Debian releases removed)',
    'cisa-kev': 'CISA Known Exploited Vulnerabilities catalogue (subset of 4 entries, re-typed)',
  },
};

export function testTrustedKey(): TrustedKey {
  return trustedKeyFromPem(readFileSync(TEST_PUBLIC_KEY), TEST_PUBLIC_KEY);
}
