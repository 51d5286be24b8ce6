import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/contract/store.js';
import { storeOf } from './workspace.js';

// Tests that check what landed in the store itself (an audit row, a column no port reads) ask it in
// SQL both engines understand: `?` placeholders, `false`/`true` for flags (SQLite reads them as 0/1).
// Anything a port answers is read through the port instead.

/** `?` placeholders as PostgreSQL's $1, $2… (none of the tests' SQL has a `?` inside a string). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The rows of one statement on the workspace's store, whichever engine it is. */
export async function storeRows<R = Record<string, unknown>>(owner: { store: Store }, sql: string, params: readonly unknown[] = []): Promise<R[]> {
  const { store } = owner;
  if (store instanceof SqliteStore) return store.core.db.prepare(sql).all(...params) as R[];
  if (store instanceof PostgresStore) return (await store.pool.query(numbered(sql), params as unknown[])).rows as R[];
  throw new Error(`no SQL access to a ${(store as Store).kind} store`);
}

/** The first column of the first row (a count, one value). */
export async function storeValue<T = unknown>(owner: { store: Store }, sql: string, params: readonly unknown[] = []): Promise<T> {
  const [row] = await storeRows<Record<string, unknown>>(owner, sql, params);
  return (row ? Object.values(row)[0] : undefined) as T;
}

/** Runs a statement that changes rows (a test's setup that no port offers, e.g. backdating a row). */
export async function storeExec(owner: { store: Store }, sql: string, params: readonly unknown[] = []): Promise<void> {
  await storeRows(owner, sql, params).catch(async (e: unknown) => {
    // better-sqlite3's all() refuses statements that return no rows
    if (owner.store instanceof SqliteStore && /does not return data/.test(String(e))) {
      owner.store.core.db.prepare(sql).run(...params);
      return [];
    }
    throw e;
  });
}

/**
 * The rows of one statement on the store of a CLOSED workspace directory (after a command ran in
 * it): the PostgreSQL database its config.json names, else its flowdeck.db, opened read-only.
 */
export async function homeRows<R = Record<string, unknown>>(home: string, sql: string, params: readonly unknown[] = []): Promise<R[]> {
  const url = storeOf(home);
  if (url) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(numbered(sql), params as unknown[])).rows as R[];
    } finally {
      await client.end();
    }
  }
  const db = new Database(join(home, 'flowdeck.db'), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as R[];
  } finally {
    db.close();
  }
}

/** The first column of the first row, on a closed workspace's store. */
export async function homeValue<T = unknown>(home: string, sql: string, params: readonly unknown[] = []): Promise<T> {
  const [row] = await homeRows<Record<string, unknown>>(home, sql, params);
  return (row ? Object.values(row)[0] : undefined) as T;
}
