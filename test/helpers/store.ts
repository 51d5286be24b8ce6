import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { querySoon, querySync } from './pg-sync.js';

// Which store the tests run on: the vitest project `postgres` (vitest.config.ts) sets
// FLOWDECK_TEST_STORE=postgres, and its global setup provides a migrated template database.
// Every test workspace then gets a database of its own, cloned from the template, named in its
// config.json so that child processes (bin/flowdeck.js) open it too.

declare module 'vitest' {
  export interface ProvidedContext {
    /** The template database every test workspace's database is cloned from (postgres project). */
    pgTemplateUrl: string;
    /** This test run's prefix of database names: all of them are dropped after the run. */
    pgRunPrefix: string;
  }
}

export type TestStore = 'sqlite' | 'postgres';

export function testStore(): TestStore {
  return process.env.FLOWDECK_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
}

/** `url` with another database name. */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

const newDatabaseName = () => `${inject('pgRunPrefix')}${process.pid}_${randomBytes(4).toString('hex')}`;

function cloneNow(admin: string, template: string): string {
  const name = newDatabaseName();
  querySync(admin, `CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`, { keep: true });
  return name;
}

/**
 * A copy of the run's template takes a quarter of a second (the server copies its files); one
 * is made ahead, while the test that took the last one runs, so most workspaces find one ready.
 */
let spare: string | undefined;

function fromRunTemplate(admin: string, template: string): string {
  let name = spare;
  spare = undefined;
  // Ordered after the spare's CREATE on the same connection: this answers once that has ended.
  if (name && querySync(admin, `SELECT 1 FROM pg_database WHERE datname = '${name}'`, { keep: true }).length === 0) name = undefined;
  name ??= cloneNow(admin, template);
  spare = newDatabaseName();
  querySoon(admin, `CREATE DATABASE ${quoteIdent(spare)} TEMPLATE ${quoteIdent(template)}`);
  return name;
}

/**
 * On the postgres project, a fresh database for the workspace directory `dir` (cloned from the
 * run's template, or from the database of the workspace `copyOf` names, which must be closed),
 * written into dir/config.json as its store; returns its URL and a drop (started, not waited for). On SQLite:
 * nothing to do (the workspace makes flowdeck.db itself).
 */
export function workspaceStore(dir: string, { copyOf }: { copyOf?: string } = {}): { url?: string; drop: () => void } {
  if (testStore() !== 'postgres') return { drop: () => undefined };
  const template = copyOf ?? inject('pgTemplateUrl');
  const admin = databaseUrl(template, 'postgres');
  const name = copyOf ? cloneNow(admin, databaseName(template)) : fromRunTemplate(admin, databaseName(template));
  const url = databaseUrl(template, name);
  // A copied workspace keeps the rest of its config (user, secrets); only its store is its own.
  const configFile = join(dir, 'config.json');
  const config = existsSync(configFile) ? (JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(configFile, JSON.stringify({ ...config, store: url }, undefined, '\t')); // as conf writes it
  let dropped = false;
  return {
    url,
    drop: () => {
      if (dropped) return;
      dropped = true;
      // FORCE: a test that failed may have left a pool open on it. Not waited for (a drop takes as
      // long as a copy); one still pending when the test process ends is dropped with the run's.
      querySoon(admin, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`, 'drops');
    },
  };
}
