import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { backfillSignatures } from './signature-backfill.js';

export type Db = Database.Database;

export interface OpenOptions {
  readonly?: boolean;
}

// WAL so readers (the TUI, a second command) never block the runtime's writer; a busy timeout so
// two processes writing at once wait instead of failing; synchronous=NORMAL is durable across
// process crashes in WAL mode (only an OS crash can lose the last commits).
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const db = new Database(file, { readonly: options.readonly ?? false });
  // A bulk action on a million errors holds the write lock for seconds: wait for it rather than
  // failing a runtime commit whose HTTP calls already went out.
  db.pragma('busy_timeout = 60000');
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  db.pragma('cache_size = -65536'); // 64 MiB page cache
  // Migrations run with temporary files on disk: a back-fill UPDATE inside the migration's transaction
  // keeps a statement journal as large as the table it rewrites (~220 MB for a million errors), which
  // in memory would be the process's peak RSS.
  if (!options.readonly) {
    migrate(db);
    // Migration 7's signatures need the normaliser (JS): existing errors are signed here, once.
    backfillSignatures(db);
  }
  db.pragma('temp_store = MEMORY');
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Db): void {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new Error(`the workspace store is at schema version ${current}, newer than this flowdeck (${MIGRATIONS.length}); upgrade flowdeck`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    // BEGIN IMMEDIATE so two processes opening a fresh workspace do not both migrate.
    db.exec('BEGIN IMMEDIATE');
    try {
      if (schemaVersion(db) === version) {
        db.exec(MIGRATIONS[version]!);
        db.pragma(`user_version = ${version + 1}`);
      }
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  }
}
