import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { BulkPort } from '../contract/ports.js';
import { SYNTHETIC_COLUMNS, type SyntheticBatch, type SyntheticTable } from '../contract/bulk.js';
import type { PgSession } from './session.js';

// Fast loads of the demo generator's rows: COPY FROM STDIN per table and chunk (parents before
// children), the derived rows (error_tags from errors.tags, error_sigs) by set-based statements
// over the chunk's id range, a commit every ~50k errors, the identity sequences moved past the
// ids the generator assigned, and, for a big load into a small store, the secondary indexes
// dropped first and rebuilt at the end (one sort each). errors.search is generated as rows land.

const ERRORS_PER_TRANSACTION = 50_000;
const REBUILD_INDEXES_MIN_ROWS = 50_000;
const TABLES: Record<SyntheticTable, string> = { traces: 'traces', retryData: 'retry_data', errors: 'errors' };
const TABLE_ORDER: SyntheticTable[] = ['traces', 'retryData', 'errors'];
const LOADED_TABLES = ['errors', 'error_tags', 'retry_data', 'traces', 'error_sigs'];

/** A value in COPY's text format. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  return String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

function* copyLines(chunks: unknown[][], width: number): Generator<string> {
  for (const chunk of chunks) {
    let text = '';
    for (let i = 0; i < chunk.length; i += width) {
      for (let c = 0; c < width; c++) text += (c === 0 ? '' : '\t') + copyValue(chunk[i + c]);
      text += '\n';
    }
    yield text;
  }
}

async function copyRows(client: PoolClient, table: SyntheticTable, chunks: unknown[][]): Promise<void> {
  if (chunks.length === 0) return;
  const columns = SYNTHETIC_COLUMNS[table];
  const stream = client.query(copyFrom(`COPY ${TABLES[table]} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(copyLines(chunks, columns.length)), stream);
}

/** What emptying a store keeps: the record of its migrations. */
const KEPT_TABLES = ['schema_migrations'];

export class PgBulk implements BulkPort {
  constructor(
    private readonly session: PgSession,
    private readonly pool: Pool,
  ) {}

  async emptyStore(): Promise<void> {
    // Every table but the migrations' record; ids start over as in a new store.
    const rows = await this.session.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename <> ALL($1::text[])`,
      [KEPT_TABLES],
    );
    if (rows.length > 0) await this.session.execute(`TRUNCATE ${rows.map((r) => r.name).join(', ')} RESTART IDENTITY`);
  }

  async loadStart(): Promise<{ nextIds: { error: number; retryData: number; trace: number }; lastOccurredAt: number | null; errorCount: number }> {
    const [r] = await this.session.query<{ e: number | null; r: number | null; t: number | null; last: number | null; n: number }>(
      `SELECT (SELECT max(id) FROM errors) AS e, (SELECT max(id) FROM retry_data) AS r, (SELECT max(id) FROM traces) AS t,
         (SELECT max(occurred_at) FROM errors) AS last, (SELECT count(*) FROM errors) AS n`,
    );
    return { nextIds: { error: (r!.e ?? 0) + 1, retryData: (r!.r ?? 0) + 1, trace: (r!.t ?? 0) + 1 }, lastOccurredAt: r!.last, errorCount: r!.n };
  }

  /** On a connection of its own (COPY, and a commit every ~50k errors): not part of a caller's transaction. */
  async loadSynthetic(
    batches: AsyncIterator<SyntheticBatch>,
    options: { expected: number; onBatch?: (batch: SyntheticBatch) => void; onProgress?: (done: number) => void; onPhase?: (phase: 'indexes' | 'analyze') => void },
  ): Promise<{ rows: number; write: number; indexes: number; analyze: number }> {
    const phases = { rows: 0, write: 0, indexes: 0, analyze: 0 };
    const client = await this.pool.connect();
    const dropped: string[] = [];
    const rebuild = async () => {
      while (dropped.length > 0) await client.query(dropped.shift()!);
    };
    let broken: Error | undefined;
    try {
      const [{ n: existing }] = (await client.query<{ n: number }>('SELECT count(*) AS n FROM errors')).rows as [{ n: number }];
      if (options.expected >= REBUILD_INDEXES_MIN_ROWS && options.expected >= existing) {
        // Secondary indexes only: primary keys and unique indexes keep guarding the rows.
        const { rows } = await client.query<{ name: string; def: string }>(
          `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           WHERE t.relname = ANY($1::text[]) AND t.relnamespace = current_schema()::regnamespace AND NOT x.indisprimary AND NOT x.indisunique`,
          [LOADED_TABLES],
        );
        await client.query('BEGIN');
        for (const ix of rows) await client.query(`DROP INDEX "${ix.name}"`);
        await client.query('COMMIT');
        dropped.push(...rows.map((ix) => ix.def));
      }
      let done = 0;
      let inTransaction = 0;
      for (;;) {
        let t0 = Date.now();
        const next = await batches.next();
        phases.rows += Date.now() - t0;
        if (next.done) break;
        const batch = next.value;
        t0 = Date.now();
        if (inTransaction === 0) {
          await client.query('BEGIN');
          // As the SQLite load's synchronous=OFF: a crash mid-load loses at most its last chunks, never the store.
          await client.query('SET LOCAL synchronous_commit = off');
        }
        for (const table of TABLE_ORDER) await copyRows(client, table, batch.tables[table]);
        await client.query(
          `INSERT INTO error_tags (tag, step, resolved, error)
           SELECT DISTINCT t, e.step, e.resolved, e.id FROM errors e, jsonb_array_elements_text(e.tags) t
           WHERE e.id BETWEEN $1 AND $2 AND e.tags IS NOT NULL`,
          [batch.firstErrorId, batch.lastErrorId],
        );
        if (batch.sigs.length > 0) {
          const col = (i: number) => batch.sigs.map((s) => s[i]);
          await client.query(
            `INSERT INTO error_sigs (id, step, code, source, classification, template, first_at)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
             ON CONFLICT (id) DO UPDATE SET first_at = least(error_sigs.first_at, excluded.first_at)`,
            [col(0), col(1), col(2), col(3), col(4), col(5), col(6)],
          );
        }
        inTransaction += batch.rows;
        done += batch.rows;
        if (inTransaction >= ERRORS_PER_TRANSACTION) {
          await this.commit(client);
          inTransaction = 0;
        }
        phases.write += Date.now() - t0;
        options.onBatch?.(batch);
        if (inTransaction === 0) options.onProgress?.(done);
      }
      if (inTransaction > 0) {
        const t0 = Date.now();
        await this.commit(client);
        phases.write += Date.now() - t0;
        options.onProgress?.(done);
      }
      if (dropped.length > 0) options.onPhase?.('indexes');
      let t0 = Date.now();
      await rebuild();
      phases.indexes = Date.now() - t0;
      options.onPhase?.('analyze');
      t0 = Date.now();
      await client.query(`ANALYZE ${LOADED_TABLES.join(', ')}`);
      phases.analyze = Date.now() - t0;
      return phases;
    } catch (e) {
      await client.query('ROLLBACK').catch((rollbackFailed: Error) => (broken = rollbackFailed));
      throw e;
    } finally {
      // Also when the load failed: the store keeps its indexes.
      if (!broken) await rebuild().catch((e: Error) => (broken = e));
      client.release(broken);
    }
  }

  /** Commits a chunk of the load with the identity sequences past the ids it used (the next insert's id follows them). */
  private async commit(client: PoolClient): Promise<void> {
    for (const table of Object.values(TABLES)) {
      await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), coalesce((SELECT max(id) FROM ${table}), 0) + 1, false)`);
    }
    await client.query('COMMIT');
  }
}
