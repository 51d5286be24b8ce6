import pg from 'pg';
import { randomBytes } from 'node:crypto';

// A PostgreSQL server for the Postgres suites: FLOWDECK_TEST_PG_URL=postgres://… (a database the
// user may create databases from). Without it those suites are skipped, and say so.

export const PG_SKIP_MESSAGE = 'set FLOWDECK_TEST_PG_URL=postgres://… to run the PostgreSQL suite (skipped: no server)';

export function pgTestUrl(): string | undefined {
  return process.env.FLOWDECK_TEST_PG_URL || undefined;
}

export interface FreshPgDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: pgTestUrl() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A new, empty database `<prefix>_<pid>_<random>` on the test server, and how to drop it. */
export async function freshPgDatabase(prefix: string): Promise<FreshPgDatabase> {
  const base = pgTestUrl();
  if (!base) throw new Error(PG_SKIP_MESSAGE);
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
