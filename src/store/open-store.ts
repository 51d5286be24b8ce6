import { WorkspaceError } from '../domain/errors.js';
import { readConfigFile } from '../workspace/open-checks.js';
import type { StoreCheck } from './contract/checks.js';
import type { Store } from './contract/store.js';
import { sqliteStoreChecks } from './sqlite/doctor-checks.js';
import { openSqliteStore } from './sqlite/open.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

// The one place that picks a workspace's store: PostgreSQL when a URL names one (FLOWDECK_STORE_URL,
// else config.json's `store`), else the workspace's own SQLite file.

export interface OpenStoreOptions {
  home: string;
  /** The SQLite file, used when no URL names a PostgreSQL store. */
  dbFile: string;
  readonly: boolean;
  /** FLOWDECK_STORE_URL's value: it wins over config.json's `store`. */
  url?: string;
}

/** Where a store URL came from, for the message that refuses it. */
type UrlSource = 'FLOWDECK_STORE_URL' | "config.json's store";

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/**
 * The PostgreSQL URL named by FLOWDECK_STORE_URL (`url`), else by config.json's `store` value; one
 * that is not postgres:// or postgresql:// is refused, naming where it came from.
 */
export function chooseStoreUrl(url: string | undefined, configStore: unknown): string | undefined {
  let value: unknown = url?.trim() ? url.trim() : undefined;
  let from: UrlSource = 'FLOWDECK_STORE_URL';
  if (value === undefined) {
    value = configStore;
    from = "config.json's store";
  }
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !POSTGRES_URL.test(value)) {
    // The value itself may hold a password: only its scheme is said.
    const shown = typeof value !== 'string' ? `a ${Array.isArray(value) ? 'list' : typeof value}` : value.includes(':') ? `"${value.split(':')[0]}:…"` : JSON.stringify(value);
    throw new WorkspaceError(`${from} must be a postgres:// or postgresql:// URL, got ${shown}`);
  }
  return value;
}

/** The PostgreSQL URL of the workspace at `home` (config.json read here), if any. */
export function storeUrlOf(home: string, url: string | undefined): string | undefined {
  return chooseStoreUrl(url, url?.trim() ? undefined : readConfigFile<Record<string, unknown>>(home)?.store);
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const url = storeUrlOf(options.home, options.url);
  if (url !== undefined) {
    // Loaded only here: a SQLite workspace never pays for pg.
    const { openPostgresStore } = await import('./postgres/index.js');
    return openPostgresStore(url, { readonly: options.readonly });
  }
  return openSqliteStore(options.dbFile, options.readonly);
}

/**
 * `flowdeck doctor`'s checks of the store `url` names (PostgreSQL: that it opens; its migrations
 * check themselves), else of the SQLite file, read without opening it as usual so that a damaged
 * one can be spoken about; `repair` re-creates missing SQLite indexes.
 */
export async function storeChecks(options: OpenStoreOptions & { repair: boolean }): Promise<StoreCheck[]> {
  if (options.url === undefined) return sqliteStoreChecks(options.dbFile, options);
  const firstLine = (e: unknown) => ((e as Error).message ?? String(e)).split('\n')[0]!;
  try {
    const store = await openStore(options);
    const location = store.location;
    await store.close();
    return [{ name: 'store', ok: true, detail: `PostgreSQL at ${location}` }];
  } catch (e) {
    return [{ name: 'store', ok: false, detail: `the PostgreSQL store cannot be opened (${firstLine(e)})`, fix: 'check the URL, that the server runs and that its user may connect' }];
  }
}

/** Indexes opening found missing and re-created (SQLite; a PostgreSQL store's migrations keep its own). */
export function repairedSchemaOf(store: Store): readonly string[] {
  return store instanceof SqliteStore ? store.repairedSchema : [];
}
