import type { Statement } from 'better-sqlite3';
import { SYNTHETIC_COLUMNS, type SyntheticBatch, type SyntheticTable } from '../contract/bulk.js';
import type { SqliteCore } from './core.js';
import type { Db } from './db.js';
import { ftsStepTokenSql } from './error-query.js';

// Fast loads of the demo generator's rows. Ids come assigned with the rows, so every table is
// written with multi-row prepared INSERTs in one transaction per ~50k errors; foreign-key checks are
// off and synchronous=OFF with a 512 MiB cache only while loading. For a big load into a small store
// the secondary indexes are dropped first and rebuilt at the end (a sort per index instead of a
// million B-tree inserts each); ANALYZE then gives the planner the indexes' selectivity. A process
// killed mid-way leaves a partial store (possibly without those indexes): generate it again.

export interface LoadOptions {
  /** How many errors the batches hold in all (decides whether indexes are rebuilt). */
  expected: number;
  /** Each batch once written (before its transaction commits). */
  onBatch?: (batch: SyntheticBatch) => void;
  /** After every committed transaction, with the number of errors written so far. */
  onProgress?: (done: number) => void;
  /** When the rows are written and the slower finishing steps begin. */
  onPhase?: (phase: 'indexes' | 'analyze') => void;
}

/** Where the time went (ms): waiting for batches, writing them, rebuilding indexes, ANALYZE. */
export interface LoadTimes {
  rows: number;
  write: number;
  indexes: number;
  analyze: number;
}

const TRANSACTION_ROWS = 50_000;
const REBUILD_INDEXES_MIN_ROWS = 50_000;
const TABLE_NAMES: Record<SyntheticTable, string> = { errors: 'errors', retryData: 'retry_data', traces: 'traces' };
// Parents before children, so the rows are consistent at every commit.
const TABLE_ORDER: SyntheticTable[] = ['traces', 'retryData', 'errors'];
// What SqliteCore.insertError keeps in sync with an error row, derived here from the rows just
// written (so the message and tags are neither built nor bound twice).
const DERIVED = [
  `INSERT INTO errors_fts (rowid, message, step) SELECT id, message, ${ftsStepTokenSql('step')} FROM errors WHERE id BETWEEN ? AND ?`,
  `INSERT INTO error_tags (tag, step, resolved, error)
    SELECT t.value, e.step, e.resolved, e.id FROM errors e, json_each(e.tags) t WHERE e.id BETWEEN ? AND ? AND e.tags IS NOT NULL`,
];
const INSERT_SIG = `INSERT INTO error_sigs (id, step, code, source, classification, template, first_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET first_at = min(first_at, excluded.first_at)`;

/** One table's INSERTs: one multi-row statement per parameter array, prepared once per row count. */
class Inserter {
  private readonly byRows = new Map<number, Statement>();
  private readonly width: number;
  private readonly head: string;
  private readonly tuple: string;

  constructor(
    private readonly db: Db,
    table: SyntheticTable,
  ) {
    const columns = SYNTHETIC_COLUMNS[table];
    this.width = columns.length;
    this.head = `INSERT INTO ${TABLE_NAMES[table]} (${columns.join(', ')})`;
    this.tuple = `(${Array(this.width).fill('?').join(', ')})`;
  }

  write(chunks: unknown[][]): void {
    for (const chunk of chunks) if (chunk.length > 0) this.statementFor(chunk.length / this.width).run(chunk);
  }

  private statementFor(rows: number): Statement {
    let statement = this.byRows.get(rows);
    if (!statement) {
      statement = this.db.prepare(`${this.head} VALUES ${Array(rows).fill(this.tuple).join(', ')}`);
      this.byRows.set(rows, statement);
    }
    return statement;
  }
}

export class SqliteBulk {
  constructor(private readonly core: SqliteCore) {}

  emptyStore(): void {
    const db = this.core.db;
    const tables = db
      .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'errors_fts_%'`)
      .all() as Array<{ name: string; sql: string }>;
    this.core.transaction(() => {
      for (const { name, sql } of tables) {
        // The message index is contentless: it is emptied by its own command, not by DELETE.
        if (/^CREATE VIRTUAL TABLE/i.test(sql)) db.prepare(`INSERT INTO ${name} (${name}) VALUES ('delete-all')`).run();
        else db.prepare(`DELETE FROM ${name}`).run();
      }
    });
    this.core.forgetKnownSignatures();
  }

  loadStart(): { nextIds: { error: number; retryData: number; trace: number }; lastOccurredAt: number | null; errorCount: number } {
    const db = this.core.db;
    const nextId = (table: string) => ((db.prepare(`SELECT max(id) FROM ${table}`).pluck().get() as number | null) ?? 0) + 1;
    return {
      nextIds: { error: nextId('errors'), retryData: nextId('retry_data'), trace: nextId('traces') },
      lastOccurredAt: db.prepare('SELECT max(occurred_at) FROM errors').pluck().get() as number | null,
      errorCount: db.prepare('SELECT count(*) FROM errors').pluck().get() as number,
    };
  }

  async loadSynthetic(batches: AsyncIterator<SyntheticBatch>, options: LoadOptions): Promise<LoadTimes> {
    const db = this.core.db;
    const existing = db.prepare('SELECT count(*) FROM errors').pluck().get() as number;
    const saved = {
      synchronous: db.pragma('synchronous', { simple: true }),
      cache_size: db.pragma('cache_size', { simple: true }),
      foreign_keys: db.pragma('foreign_keys', { simple: true }),
    };
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -524288');
    db.pragma('foreign_keys = OFF');

    // Secondary indexes of the tables written, rebuilt by a sort each at the end.
    const dropped: string[] = [];
    const times: LoadTimes = { rows: 0, write: 0, indexes: 0, analyze: 0 };
    const rebuild = () => {
      while (dropped.length > 0) db.exec(dropped.shift()!);
    };
    try {
      if (options.expected >= REBUILD_INDEXES_MIN_ROWS && options.expected >= existing) {
        const indexes = db
          .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('errors', 'error_tags', 'retry_data', 'traces') AND sql IS NOT NULL`)
          .all() as Array<{ name: string; sql: string }>;
        this.core.transaction(() => {
          for (const ix of indexes) {
            db.exec(`DROP INDEX "${ix.name}"`);
            dropped.push(ix.sql);
          }
        });
      }
      const inserters = Object.fromEntries(TABLE_ORDER.map((t) => [t, new Inserter(db, t)])) as Record<SyntheticTable, Inserter>;
      const derived = DERIVED.map((sql) => db.prepare(sql));
      const insertSig = db.prepare(INSERT_SIG);
      let done = 0;
      let finished = false;
      while (!finished && done < options.expected) {
        const end = Math.min(options.expected, done + TRANSACTION_ROWS);
        db.exec('BEGIN IMMEDIATE');
        try {
          while (done < end) {
            let t0 = Date.now();
            const next = await batches.next();
            times.rows += Date.now() - t0;
            if (next.done) {
              finished = true;
              break;
            }
            const batch = next.value;
            t0 = Date.now();
            for (const table of TABLE_ORDER) inserters[table].write(batch.tables[table]);
            for (const stmt of derived) stmt.run(batch.firstErrorId, batch.lastErrorId);
            for (const row of batch.sigs) insertSig.run(row);
            times.write += Date.now() - t0;
            options.onBatch?.(batch);
            done += batch.rows;
          }
          const t0 = Date.now();
          db.exec('COMMIT');
          times.write += Date.now() - t0;
        } catch (e) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw e;
        }
        options.onProgress?.(done);
      }

      if (dropped.length > 0) options.onPhase?.('indexes');
      let t0 = Date.now();
      db.pragma('threads = 2'); // CREATE INDEX sorts on a second thread
      rebuild();
      db.pragma('threads = 0');
      times.indexes = Date.now() - t0;
      // Statistics for the planner: which index narrows a step's listing the most.
      options.onPhase?.('analyze');
      t0 = Date.now();
      db.exec('ANALYZE');
      times.analyze = Date.now() - t0;
    } finally {
      rebuild(); // also when loading failed, so the store keeps its indexes
      db.pragma(`foreign_keys = ${saved.foreign_keys}`);
      db.pragma(`cache_size = ${saved.cache_size}`);
      db.pragma(`synchronous = ${saved.synchronous}`);
    }
    return times;
  }
}
