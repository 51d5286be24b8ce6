import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // A limit for hangs, not a speed bar: on a loaded 2-core machine an end-to-end test that takes
    // 3 s idle took 13 s (load average 14), and a shared CI box may be slower still.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Tests open real SQLite files and real HTTP servers; forks keep native handles isolated.
    pool: 'forks',
    // Builds dist/ once (when stale) for the end-to-end tests, which run bin/flowdeck.js.
    globalSetup: ['test/global-setup.ts'],
    // No test reads the developer's profiles or FLOWDECK_PROFILE: a current remote profile there
    // would send every command elsewhere. Tests of profiles give their own FLOWDECK_CONFIG_DIR.
    env: { FLOWDECK_CONFIG_DIR: join(tmpdir(), 'flowdeck-tests-no-profiles'), FLOWDECK_PROFILE: '' },
    reporters: ['default'],
  },
});
