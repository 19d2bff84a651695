import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests start real anvil nodes and HTTP servers; two files at a time fits a 2-core CI box.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    reporters: ['default', './test/support/passFailReporter.ts'],
    hookTimeout: 60_000,
  },
});
