import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['agent/**/*.test.ts', 'collector/**/*.test.ts', 'common/**/*.test.ts', 'proto/**/*.test.ts', 'rules/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'],
    // The search-engine suites run apart, with the setup that starts real engines: test/setup/vitest.search.config.ts.
    exclude: ['node_modules/**', 'dist/**', 'test/store-*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
