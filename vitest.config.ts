import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['agent/**/*.test.ts', 'collector/**/*.test.ts', 'common/**/*.test.ts', 'proto/**/*.test.ts', 'rules/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Real Elasticsearch and OpenSearch for the store suites, started once and stopped after.
    globalSetup: ['test/setup/search-engines.ts'],
    reporters: ['default'],
  },
});
