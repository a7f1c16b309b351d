/**
 * Runs the search-engine suites on their own, with the global setup that starts the engines:
 *   npx vitest run --config test/setup/vitest.search.config.ts
 * (`npm test` does the same once vitest.config.ts names test/setup/search-engines.ts as globalSetup.)
 */
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/store-*.test.ts', 'collector/store/search/**/*.test.ts'],
    globalSetup: ['test/setup/search-engines.ts'],
  },
});
