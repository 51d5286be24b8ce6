import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// Two projects: `sqlite`, the whole suite on the embedded store, and `postgres`, the integration
// and end-to-end suites again with every test workspace on a database of its own on the server
// FLOWDECK_TEST_PG_URL names (.ci/run starts one). Without a reachable server the postgres
// project is left out, saying so in one line.

const SERVER_HINT = '(.ci/run starts a server)';

// Files about the SQLite adapter itself, left out of the postgres project as a whole (single
// SQLite-only tests elsewhere say `it.skipIf(testStore() === 'postgres')` with their reason).
const SQLITE_ONLY_FILES = [
  'test/integration/store-plan.test.ts', // SQLite query plans: FTS5, INDEXED BY, sqlite_stat1
  'test/integration/retry-items-migration.test.ts', // a SQLite schema migration
  'test/integration/key-seconds.test.ts', // SQLite migration 4 and SqliteCore.insertError
  'test/integration/store-meta.test.ts', // SqliteCore's meta table, opened directly
];

// Files that never open a workspace store (a client against the spec's mock server) or that test
// the PostgreSQL adapter against SQLite themselves (run once, in the sqlite project): running them
// again on postgres proves nothing more and costs CI time.
const STORE_FREE_FILES = [
  'test/integration/pg-store.test.ts',
  'test/integration/pg-listing.test.ts',
  'test/integration/remote-follow-job.test.ts',
  'test/integration/remote-spec-server.test.ts',
  'test/integration/remote-transport.test.ts',
];

/** Why the PostgreSQL suite cannot run, or undefined when it can. */
async function postgresUnavailable(url: string | undefined): Promise<string | undefined> {
  if (!url) return `FLOWDECK_TEST_PG_URL is not set ${SERVER_HINT}`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (e) {
    const reason = e instanceof Error ? (e.message || (e as { code?: string }).code || e.name) : String(e);
    return `FLOWDECK_TEST_PG_URL is not reachable: ${reason}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export default defineConfig(async () => {
  const pgUrl = process.env.FLOWDECK_TEST_PG_URL;
  const unavailable = await postgresUnavailable(pgUrl);
  // vitest may evaluate the config more than once in a run: say it once.
  if (unavailable && !process.env.FLOWDECK_PG_SKIP_SAID) {
    process.env.FLOWDECK_PG_SKIP_SAID = '1';
    console.log(`PostgreSQL suite skipped: ${unavailable}`);
  }

  const projects: TestProjectInlineConfiguration[] = [
    { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'] } },
  ];
  if (!unavailable) {
    projects.push({
      extends: true,
      test: {
        name: 'postgres',
        include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
        exclude: [...configDefaults.exclude, ...SQLITE_ONLY_FILES, ...STORE_FREE_FILES],
        env: { FLOWDECK_TEST_STORE: 'postgres', FLOWDECK_TEST_PG_URL: pgUrl! },
        // After the root's (the dist/ build): the run's template database.
        globalSetup: ['test/pg-global-setup.ts'],
      },
    });
  }

  return {
    test: {
      projects,
      // A limit for hangs, not a speed bar: on a loaded 2-core machine an end-to-end test that takes
      // 3 s idle took 13 s (load average 14), and a shared CI box may be slower still.
      testTimeout: 120_000,
      hookTimeout: 120_000,
      // Tests open real SQLite files and real HTTP servers; forks keep native handles isolated.
      pool: 'forks',
      // At least two test files at once: most of them wait on I/O (child processes, HTTP, a database
      // server), and vitest's default (cores - 1) runs one file at a time on CI's 2 cores. Measured
      // on 2 shared cores, the SQLite suite: 283 s with 1 worker, 261 s with 2 under a higher load.
      maxWorkers: Math.max(2, availableParallelism() - 1),
      // Builds dist/ once (when stale) for the end-to-end tests, which run bin/flowdeck.js.
      globalSetup: ['test/global-setup.ts'],
      // No test reads the developer's profiles or FLOWDECK_PROFILE: a current remote profile there
      // would send every command elsewhere. Tests of profiles give their own FLOWDECK_CONFIG_DIR.
      // Nor the developer's FLOWDECK_STORE_URL, which would win over each test workspace's store.
      env: { FLOWDECK_CONFIG_DIR: join(tmpdir(), 'flowdeck-tests-no-profiles'), FLOWDECK_PROFILE: '', FLOWDECK_STORE_URL: '', FLOWDECK_TEST_STORE: 'sqlite' },
      reporters: ['default'],
    },
  };
});
