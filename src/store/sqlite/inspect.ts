import Database from 'better-sqlite3';
import { schemaVersion, type Db } from './db.js';
import { MIGRATIONS } from './migrations.js';
import { checkSchema, repairSchema, schemaComplete, type SchemaReport } from './schema-check.js';
import type { SqliteCore } from './core.js';

// A store's health as `flowdeck doctor` reports it: its schema version, SQLite's integrity check
// and the schema check, read without migrating anything (a damaged store must be spoken about,
// not opened as usual). The SQL of it stays here, with the store.

export interface StoreInspection {
  version: number;
  /** The version this flowdeck's migrations lead to. */
  expectedVersion: number;
  /** PRAGMA integrity_check's lines (at most 20): ['ok'] for a sound store. */
  integrity: string[];
  /** Only when the version is the expected one (an older or newer store has other objects). */
  schema?: SchemaReport;
  /** Indexes re-created (with `repair`). */
  repaired: string[];
}

function inspect(db: Db, repair: boolean): StoreInspection {
  const version = schemaVersion(db);
  const integrity = (db.prepare('PRAGMA integrity_check(20)').all() as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
  const inspection: StoreInspection = { version, expectedVersion: MIGRATIONS.length, integrity, repaired: [] };
  if (version !== MIGRATIONS.length) return inspection;
  let schema = checkSchema(db);
  if (repair && schema.missingTables.length === 0 && !schemaComplete(schema)) {
    inspection.repaired = repairSchema(db, schema);
    schema = checkSchema(db);
  }
  inspection.schema = schema;
  return inspection;
}

/**
 * Inspects the store file, opened read-only unless it is to be repaired. Throws SQLite's error when
 * it cannot be opened (SQLITE_READONLY_DIRECTORY: inspect a copy with inspectOpenStore instead).
 */
export function inspectStoreFile(dbFile: string, { readonly, repair }: { readonly: boolean; repair: boolean }): StoreInspection {
  const db = new Database(dbFile, { readonly: readonly || !repair, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 60000');
    return inspect(db, repair && !readonly);
  } finally {
    db.close();
  }
}

/** Inspects a store already open (a read-only copy), never repairing it. */
export function inspectOpenStore(store: SqliteCore): StoreInspection {
  return inspect(store.db, false);
}
