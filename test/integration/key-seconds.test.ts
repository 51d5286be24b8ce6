import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { toFlowStepError } from '../../src/backend/shapes.js';
import { encodeId, idSeconds } from '../../src/domain/ids.js';
import { migrate, schemaVersion } from '../../src/store/sqlite/db.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { SqliteCore } from '../../src/store/sqlite/core.js';
import { tempHome } from '../helpers/workspace.js';

// errors.retry_data_sec and errors.trace_sec hold the seconds that an error's retryDataKey and
// reqAndResKey encode (migration 4), so listings and the CSV export read no trace or snapshot row.
// They must always equal idSeconds of the rows the error points at: back-filled by the migration,
// written by insertError (also for a snapshot carried over from an older error).

const T = Date.UTC(2026, 10, 1, 12, 0, 0, 0);
const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function dbFile(): string {
  const t = tempHome('flowdeck-keysec-');
  cleanups.push(t.cleanup);
  return join(t.home, 'flowdeck.db');
}

describe('key seconds on errors', () => {
  it('migration 4 back-fills them from the traces and snapshots, NULL where there is no pointer', () => {
    const db = new Database(dbFile());
    cleanups.unshift(() => db.close());
    db.pragma('foreign_keys = ON');
    const v4 = MIGRATIONS.findIndex((sql) => sql.includes('retry_data_sec'));
    expect(v4).toBeGreaterThanOrEqual(3);
    for (const sql of MIGRATIONS.slice(0, v4)) db.exec(sql);
    db.pragma(`user_version = ${v4}`);

    db.exec(`INSERT INTO flows (id, name, file, definition) VALUES ('f', 'F', 'f.yaml', '{}');
      INSERT INTO steps (id, flow_id, step_id, kind, name, position) VALUES (1, 'f', 's', 'import', 'S', 0);`);
    const trace = db.prepare(`INSERT INTO traces (id, step, time, stage, method, request, response) VALUES (?, 1, ?, 'import', 'POST', '{}', '{}')`);
    const data = db.prepare(`INSERT INTO retry_data (id, step, created_at, updated_at, stage, data) VALUES (?, 1, ?, ?, 'page_processor_import', '{}')`);
    const error = db.prepare(`INSERT INTO errors (id, step, occurred_at, source, code, message, trace, retry_data) VALUES (?, 1, ?, 'application', '422', 'm', ?, ?)`);
    const expected: Array<{ id: number; trace: number | null; data: number | null }> = [];
    const seed = db.transaction(() => {
      for (let i = 1; i <= 500; i++) {
        const at = T + i * 977;
        // traces and snapshots a little before the error, often in the previous second
        trace.run(i, at - (i % 700));
        data.run(i, at - (i % 1300), at);
        const t = i % 5 === 0 ? null : i;
        const d = i % 7 === 0 ? null : i % 11 === 0 ? 1 : i; // some share the first snapshot
        error.run(i, at, t, d);
        expected.push({ id: i, trace: t === null ? null : idSeconds(at - (i % 700)), data: d === null ? null : d === 1 ? idSeconds(T + 977 - 1) : idSeconds(at - (i % 1300)) });
      }
    });
    seed();

    migrate(db);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    const rows = db.prepare('SELECT id, trace_sec AS trace, retry_data_sec AS data FROM errors ORDER BY id').all();
    expect(rows).toEqual(expected);
  });

  it('insertError takes them from the rows it points at, also for an older carried-over snapshot', () => {
    const store = new SqliteCore(dbFile());
    cleanups.unshift(() => store.close());
    store.db.exec(`INSERT INTO flows (id, name, file, definition) VALUES ('f', 'F', 'f.yaml', '{}');
      INSERT INTO steps (id, flow_id, step_id, kind, name, position) VALUES (1, 'f', 's', 'import', 'S', 0);`);
    const snapshotAt = T - 3 * 86_400_000 + 999;
    const retryData = store.insertRetryData({ step: 1, createdAt: snapshotAt, stage: 'page_processor_import', data: { id: 1 } });
    const traceAt = T + 5_999;
    const trace = store.insertTrace({ step: 1, time: traceAt, stage: 'import', method: 'POST', statusCode: 503, request: { method: 'POST', url: 'http://127.0.0.1/x', headers: {} }, response: {} });
    const base = { step: 1, occurredAt: T + 6_001, source: 'application', code: '503', message: 'm', classification: 'intermittent', classifiedBy: 'rule' };
    const both = store.insertError({ ...base, trace, retryData });
    const neither = store.insertError(base);

    const row = store.getError(both)!;
    expect(row.traceSeconds).toBe(idSeconds(traceAt));
    expect(row.retryDataSeconds).toBe(idSeconds(snapshotAt));
    const shaped = toFlowStepError(row, (c) => c);
    expect(shaped.reqAndResKey).toBe(encodeId('trace', trace, traceAt));
    expect(shaped.retryDataKey).toBe(encodeId('retryData', retryData, snapshotAt));

    const bare = store.getError(neither)!;
    expect([bare.traceSeconds, bare.retryDataSeconds]).toEqual([null, null]);
    expect(toFlowStepError(bare, (c) => c)).not.toHaveProperty('reqAndResKey');
    expect(toFlowStepError(bare, (c) => c)).not.toHaveProperty('retryDataKey');
  });
});
