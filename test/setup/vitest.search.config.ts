/**
 * Runs the search-engine suites on their own, with the global setup that starts the engines:
 *   npx vitest run --config test/setup/vitest.search.config.ts
 * (`npm test` runs it after the main suite: scripts/test.mjs.)
 */
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/store-*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    globalSetup: ['test/setup/search-engines.ts'],
  },
});
