import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { isFlowdeckError, WorkspaceError } from '../../domain/errors.js';
import { schemaVersion } from './db.js';
import { MIGRATIONS } from './migrations.js';
import { checkSchema, repairSchema } from './schema-check.js';
import { SqliteCore } from './core.js';
import { SqliteStore } from './sqlite-store.js';

// Opening a workspace's SQLite store: read-only when the workspace cannot be written, and checked
// to be a complete flowdeck store. What cannot be used is said in one line naming the file.

/** The store of `dbFile`, migrated, with any missing index re-created (SqliteStore.repairedSchema names them). */
export function openSqliteStore(dbFile: string, readonly: boolean): SqliteStore {
  const core = openCore(dbFile, readonly);
  let repaired: string[];
  try {
    repaired = ensureSchema(core, dbFile);
  } catch (e) {
    core.close();
    throw e;
  }
  return new SqliteStore(core, dbFile, repaired);
}

/** What a SQLite failure to open means, in people's words. */
function storeOpenError(dbFile: string, e: unknown): Error {
  if (isFlowdeckError(e)) return e;
  const code = (e as { code?: string }).code ?? '';
  const message = (e as Error).message ?? String(e);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new WorkspaceError(`${dbFile} is not a readable flowdeck store (${message}); run flowdeck doctor for what to do`);
  }
  if (code.startsWith('SQLITE_CANTOPEN')) return new WorkspaceError(`cannot open the store ${dbFile} (${message}); check that its directory and files can be read`);
  if (code === 'SQLITE_FULL') return new WorkspaceError(`cannot open the store ${dbFile}: the disk is full`);
  return new WorkspaceError(`cannot open the store ${dbFile}: ${message.split('\n')[0]}`);
}

/**
 * A WAL store in a directory nobody may write cannot be read in place: SQLite needs its -shm file,
 * which the last writer removed on close. Reading a copy (in the OS temp dir, removed on close)
 * gives the same rows; nothing can change the original meanwhile, since nobody may write there.
 */
export function openSnapshotCopy(dbFile: string): SqliteCore {
  const dir = mkdtempSync(join(tmpdir(), 'flowdeck-readonly-'));
  try {
    const copy = join(dir, basename(dbFile));
    copyFileSync(dbFile, copy);
    if (existsSync(`${dbFile}-wal`)) copyFileSync(`${dbFile}-wal`, `${copy}-wal`);
    const store = new SqliteCore(copy, { readonly: true });
    store.onClose(() => rmSync(dir, { recursive: true, force: true }));
    return store;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw storeOpenError(dbFile, e);
  }
}

function openCore(dbFile: string, readonly: boolean): SqliteCore {
  if (readonly && !existsSync(dbFile)) {
    throw new WorkspaceError(`the workspace ${dirname(dbFile)} is read-only and has no store yet; make it writable once so flowdeck can create ${dbFile}`);
  }
  let store: SqliteCore;
  try {
    store = new SqliteCore(dbFile, { readonly });
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (!readonly || (code !== 'SQLITE_READONLY_DIRECTORY' && !code.startsWith('SQLITE_CANTOPEN'))) throw storeOpenError(dbFile, e);
    store = openSnapshotCopy(dbFile);
  }
  if (readonly) {
    // Migrations cannot run on a read-only store: an older schema would fail every query later.
    let version: number;
    try {
      version = schemaVersion(store.db);
    } catch (e) {
      store.close();
      throw storeOpenError(dbFile, e);
    }
    if (version !== MIGRATIONS.length) {
      store.close();
      const why = version < MIGRATIONS.length ? `needs an upgrade (schema ${version} to ${MIGRATIONS.length}), which a read-only workspace cannot take; open it once writable` : `is at schema ${version}, newer than this flowdeck (${MIGRATIONS.length}); upgrade flowdeck`;
      throw new WorkspaceError(`the store ${dbFile} ${why}`);
    }
  }
  return store;
}

/**
 * Checks the store has every table and index its migrations made. Missing indexes are re-created
 * (returned by name); a missing table is damage nothing here can undo, so it is said, not hidden.
 * A read-only store is used as it is (listings may be slower without an index).
 */
function ensureSchema(store: SqliteCore, dbFile: string): string[] {
  let report;
  try {
    report = checkSchema(store.db);
  } catch (e) {
    throw storeOpenError(dbFile, e);
  }
  if (report.missingTables.length > 0) {
    throw new WorkspaceError(`the store ${dbFile} is damaged: table ${report.missingTables.join(', ')} is missing; run flowdeck doctor for what to do`);
  }
  if (store.readonly) return [];
  return repairSchema(store.db, report);
}
