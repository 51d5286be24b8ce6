import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { Workspace } from '../src/workspace/workspace.js';
import { databaseUrl } from './helpers/store.js';

// The postgres project's setup: one template database per run, migrated by opening a workspace on
// it, so that each test workspace's database is a quick `CREATE DATABASE … TEMPLATE` copy with the
// schema in place. Every database of the run shares a prefix; teardown drops all of them, also
// those of tests that failed before their cleanup.

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function withAdmin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres'), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function dropRunDatabases(serverUrl: string, prefix: string): Promise<void> {
  await withAdmin(serverUrl, async (client) => {
    // A test process that ended while its helpers were still making a spare database (or dropping
    // one) leaves that statement running on the server: drop again until none is left or running.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
      for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
      const running = await client.query(`SELECT 1 FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE '%DATABASE "' || $1 || '%'`, [prefix]);
      if (running.rowCount === 0 && rows.length === 0) return;
      if (Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
}

/** Databases of runs that started over a day ago and never tore down (`vitest list` does not; a killed run). */
async function dropAbandonedRuns(serverUrl: string): Promise<void> {
  await withAdmin(serverUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname ~ '^ci_[0-9a-z]+_[0-9a-f]{6}_'`);
    for (const { datname } of rows) {
      const started = parseInt(datname.split('_')[1]!, 36);
      if (Date.now() - started > 24 * 3600_000) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    }
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const serverUrl = process.env.FLOWDECK_TEST_PG_URL;
  if (!serverUrl) throw new Error('the postgres project runs only with FLOWDECK_TEST_PG_URL set');
  // Only names starting with ci_ are made on a shared server.
  const prefix = `ci_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}_`;
  const template = `${prefix}template`;
  await dropAbandonedRuns(serverUrl);
  await withAdmin(serverUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(template)} TEMPLATE template0 ENCODING 'UTF8'`));
  const templateUrl = databaseUrl(serverUrl, template);

  // Opening a workspace whose config names the template runs the store's migrations in it.
  const home = mkdtempSync(join(tmpdir(), 'flowdeck-pg-template-'));
  try {
    writeFileSync(join(home, 'config.json'), JSON.stringify({ store: templateUrl }));
    const ws = await Workspace.open(home, { ...process.env, FLOWDECK_STORE_URL: templateUrl, FLOWDECK_WORKER: 'off' });
    await ws.close();
  } catch (e) {
    await dropRunDatabases(serverUrl, prefix);
    throw e;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }

  project.provide('pgTemplateUrl', templateUrl);
  project.provide('pgRunPrefix', prefix);
  return () => dropRunDatabases(serverUrl, prefix);
}
