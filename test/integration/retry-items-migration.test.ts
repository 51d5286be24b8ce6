import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../src/store/sqlite/db.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';

// The migration that lets a retry item end 'resolved_meanwhile' rebuilds retry_items: a workspace
// made before it keeps every item as it was, and both indexes.

let tmp: TempHome | undefined;
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

it('retry_items is rebuilt with its rows and indexes, and takes the new state', () => {
  tmp = tempHome('flowdeck-items-');
  const db = new Database(join(tmp.home, 'flowdeck.db'));
  try {
    db.pragma('foreign_keys = ON');
    const version = MIGRATIONS.findIndex((sql) => sql.includes("'resolved_meanwhile'"));
    expect(version).toBeGreaterThanOrEqual(6);
    for (const sql of MIGRATIONS.slice(0, version)) db.exec(sql);
    db.pragma(`user_version = ${version}`);
    db.exec(`INSERT INTO flows (id, name, file, definition) VALUES ('f', 'F', 'f.yaml', '{}');
      INSERT INTO steps (id, flow_id, step_id, kind, name, position) VALUES (1, 'f', 's', 'import', 'S', 0);
      INSERT INTO retry_data (id, step, created_at, updated_at, stage, data) VALUES (1, 1, 0, 0, 'page_processor_import', '{}'), (2, 1, 0, 0, 'page_processor_import', '{}');
      INSERT INTO jobs (id, type, status, created_at, last_modified) VALUES (1, 'retry', 'running', 0, 0);
      INSERT INTO retry_items (job, seq, retry_data, state, attempts, next_at, result_error, detail) VALUES (1, 0, 1, 'failed', 2, 5, 9, '503: busy'), (1, 1, 2, 'pending', 0, 7, NULL, NULL);`);
    expect(() => db.exec(`UPDATE retry_items SET state = 'resolved_meanwhile' WHERE seq = 1`)).toThrow(/CHECK/);
    const before = db.prepare('SELECT * FROM retry_items ORDER BY job, seq').all();

    migrate(db);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    // Later migrations add the items' lease (free on every migrated row).
    expect(db.prepare('SELECT * FROM retry_items ORDER BY job, seq').all()).toEqual(before.map((row) => ({ ...(row as object), lease_owner: null, lease_until: null })));
    const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'retry_items' AND sql IS NOT NULL ORDER BY name`).pluck().all();
    expect(indexes).toEqual(['ix_retry_items_leased', 'ix_retry_items_pending', 'ix_retry_items_retry_data']);
    db.exec(`UPDATE retry_items SET state = 'resolved_meanwhile' WHERE seq = 1`);
    expect(db.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
    expect(db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
  } finally {
    db.close();
  }
});
