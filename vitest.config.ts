import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests open real SQLite files and real HTTP servers; forks keep native handles isolated.
    pool: 'forks',
    // Builds dist/ once (when stale) for the end-to-end tests, which run bin/flowdeck.js.
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
  },
});
