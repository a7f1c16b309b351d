/**
 * Rebuilds the committed test bundle (test/fixtures/feed/test-bundle.cgfeed) from its inputs with
 * the exact options it was built with (collector/vuln/testing/fixtures.ts), and prints its SHA-256:
 * the pin in collector/vuln/import-trust.ts must be updated to it (import-trust.test.ts fails until it is).
 *
 *   npm run build && node dist/scripts/feed/rebuild-test-bundle.js
 */
import { createHash } from 'node:crypto';
import { TEST_BUNDLE, TEST_BUNDLE_INPUTS } from '../../collector/vuln/testing/fixtures.js';
import { buildFromInputs } from './build-bundle.js';

const r = buildFromInputs({ out: TEST_BUNDLE, ...TEST_BUNDLE_INPUTS, log: (line) => console.log(line) });
for (const w of r.warnings) console.error(`warning: ${w}`);
console.log(`${TEST_BUNDLE}: ${r.bytes.length} bytes, feed ${r.manifest.id}, sha256 ${createHash('sha256').update(r.bytes).digest('hex')}`);
