import { LOG_ENTRY_COLUMNS, logEntryValues } from '../shared/row-values.js';
import type { RecordsPort } from '../contract/ports.js';
import type { CsvChunkQuery, ErrorSnapshotRef, LogEntryFilter, QueryContext, RetryDataReplacement, TraceFilter, TraceSummaryRow } from '../contract/queries.js';
import type { LogEntryRow, NewLogEntry, NewRetryData, NewTrace, RetryDataRow, TraceRow } from '../contract/rows.js';
import type { PgSession } from './session.js';
import { pgCsvRows } from './csv.js';
import { toLogEntry, toRetryDataRow, toTraceRow } from './rows.js';

// Retry data (snapshots), request traces, execution logs, trace-key job search and the CSV export's
// reads, as the SQLite adapter's RecordsRepo (and SqliteCore's record methods) give them.

/** Bounds selecting exactly the strings that start with `prefix` in byte order (the columns are COLLATE "C"). */
function prefixRange(prefix: string): [string, string] {
  return [prefix, `${prefix}\u{10FFFF}`];
}

export class PgRecords implements RecordsPort {
  constructor(private readonly session: PgSession) {}

  async insertRetryData(r: NewRetryData): Promise<number> {
    const [row] = await this.session.query<{ id: number }>(
      `INSERT INTO retry_data (step, created_at, updated_at, stage, pg_export_id, one_to_many, trace_key, data, adaptor_response, attempts)
       VALUES ($1, $2, $2, $3, $4, false, $5, $6, $7, $8) RETURNING id`,
      [
        r.step,
        r.createdAt,
        r.stage,
        r.pgExportId ?? null,
        r.traceKey ?? null,
        JSON.stringify(r.data ?? null),
        r.adaptorResponse === undefined ? null : JSON.stringify(r.adaptorResponse),
        r.attempts ?? 0,
      ],
    );
    return row!.id;
  }

  async getRetryData(id: number): Promise<RetryDataRow | undefined> {
    const [r] = await this.session.query('SELECT * FROM retry_data WHERE id = $1', [id]);
    return r ? toRetryDataRow(r) : undefined;
  }

  async replaceRetryData(id: number, v: RetryDataReplacement, at: number): Promise<void> {
    await this.session.execute(
      `UPDATE retry_data SET data = $1, one_to_many = $2, path_to_many = $3, child_index = $4, trace_key = $5, adaptor_response = $6, updated_at = $7 WHERE id = $8`,
      [v.data, v.oneToMany, v.pathToMany, v.childIndex, v.traceKey, v.adaptorResponse, at, id],
    );
  }

  async updateRetryDataJson(id: number, data: string, at: number): Promise<void> {
    await this.session.execute('UPDATE retry_data SET data = $1, updated_at = $2 WHERE id = $3', [data, at, id]);
  }

  async snapshotsOfErrors(errorIds: readonly number[]): Promise<ErrorSnapshotRef[]> {
    const rows = await this.session.query<{ id: number; occurred_at: number; retry_data: number | null }>(
      'SELECT id, occurred_at, retry_data FROM errors WHERE id = ANY($1::bigint[])',
      [errorIds],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    // In the given order, as asked (duplicates kept, as SQLite's one read per id gives them).
    const out: ErrorSnapshotRef[] = [];
    for (const id of errorIds) {
      const r = byId.get(id);
      if (r) out.push({ error: r.id, occurredAt: r.occurred_at, retryData: r.retry_data });
    }
    return out;
  }

  async insertTrace(t: NewTrace): Promise<number> {
    const [row] = await this.session.query<{ id: number }>(
      'INSERT INTO traces (step, time, stage, method, status_code, request, response) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
      [t.step, t.time, t.stage, t.method, t.statusCode ?? null, JSON.stringify(t.request), JSON.stringify(t.response)],
    );
    return row!.id;
  }

  async getTrace(id: number): Promise<TraceRow | undefined> {
    const [r] = await this.session.query('SELECT * FROM traces WHERE id = $1', [id]);
    return r ? toTraceRow(r) : undefined;
  }

  async listTraces(step: number, f: TraceFilter, limit: number): Promise<TraceSummaryRow[]> {
    const where = ['step = $1'];
    const params: unknown[] = [step];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (f.timeLte !== undefined) add((p) => `time <= ${p}`, f.timeLte);
    if (f.timeGt !== undefined) add((p) => `time > ${p}`, f.timeGt);
    if (f.statusCode !== undefined) add((p) => `status_code = ${p}`, f.statusCode);
    if (f.method !== undefined) add((p) => `method = ${p}`, f.method);
    if (f.stage !== undefined) add((p) => `stage = ${p}`, f.stage);
    if (f.before) {
      params.push(f.before.time, f.before.id);
      where.push(`(time, id) < ($${params.length - 1}::bigint, $${params.length}::bigint)`);
    }
    params.push(limit);
    const rows = await this.session.query<{ id: number; time: number; method: string; status_code: number | null; stage: string }>(
      `SELECT id, time, method, status_code, stage FROM traces WHERE ${where.join(' AND ')} ORDER BY time DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({ id: r.id, time: r.time, method: r.method, statusCode: r.status_code, stage: r.stage }));
  }

  async deleteTraces(step: number, ids: readonly number[]): Promise<void> {
    for (const id of ids) {
      await this.session.execute('UPDATE errors SET trace = NULL, trace_sec = NULL WHERE trace = $1', [id]);
      await this.session.execute('DELETE FROM traces WHERE id = $1 AND step = $2', [id, step]);
    }
  }

  async jobIdsByTraceKeyPrefix(flowId: string, prefix: string, limit: number): Promise<number[]> {
    const [lo, hi] = prefixRange(prefix);
    const rows = await this.session.query<{ id: number }>(
      `SELECT j.id FROM jobs j
       WHERE j.id IN (
           SELECT job FROM errors WHERE trace_key >= $1 AND trace_key < $2 AND job IS NOT NULL
           UNION SELECT job FROM log_entries WHERE trace_key >= $1 AND trace_key < $2)
         AND j.flow_id = $3 AND j.parent_id IS NULL
       ORDER BY j.id DESC LIMIT $4`,
      [lo, hi, flowId, limit],
    );
    return rows.map((r) => r.id);
  }

  async insertLogEntry(entry: NewLogEntry): Promise<number> {
    const [row] = await this.session.query<{ id: number }>(
      `INSERT INTO log_entries (${LOG_ENTRY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
      logEntryValues(entry),
    );
    const id = row!.id;
    if (entry.data && entry.data.length > 0) {
      await this.session.execute(
        'INSERT INTO log_data (entry, stage, seq, data) SELECT $1, s, o - 1, d FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(s, d, o)',
        [id, entry.data.map((d) => d.stage), entry.data.map((d) => JSON.stringify(d.data))],
      );
    }
    return id;
  }

  async listLogEntries(job: number, f: LogEntryFilter): Promise<LogEntryRow[]> {
    const where = ['job = $1'];
    const params: unknown[] = [job];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (f.status) add((p) => `status = ${p}`, f.status);
    if (f.steps && f.steps.length > 0) add((p) => `step = ANY(${p}::bigint[])`, f.steps);
    if (f.traceKeyPrefix !== undefined && f.traceKeyPrefix !== '') {
      const [lo, hi] = prefixRange(f.traceKeyPrefix);
      add((p) => `trace_key >= ${p}`, lo);
      add((p) => `trace_key < ${p}`, hi);
    }
    const cmp = f.order === 'asc' ? '>' : '<';
    if (f.after) {
      params.push(f.after.startedAt, f.after.id);
      where.push(`(started_at, id) ${cmp} ($${params.length - 1}::bigint, $${params.length}::bigint)`);
    }
    const dir = f.order === 'asc' ? 'ASC' : 'DESC';
    params.push(f.limit);
    const sql = `SELECT * FROM log_entries WHERE ${where.join(' AND ')} ORDER BY started_at ${dir}, id ${dir} LIMIT $${params.length}`;
    return (await this.session.query(sql, params)).map(toLogEntry);
  }

  async getLogEntry(id: number): Promise<LogEntryRow | undefined> {
    const [r] = await this.session.query('SELECT * FROM log_entries WHERE id = $1', [id]);
    return r ? toLogEntry(r) : undefined;
  }

  async findLogEntries(job: number, steps: readonly number[], recordId: string): Promise<LogEntryRow[]> {
    if (steps.length === 0) return [];
    const rows = await this.session.query('SELECT * FROM log_entries WHERE job = $1 AND step = ANY($2::bigint[]) AND record_id = $3 ORDER BY started_at, id', [
      job,
      steps,
      recordId,
    ]);
    return rows.map(toLogEntry);
  }

  async logEntriesByTraceKey(job: number, traceKey: string): Promise<LogEntryRow[]> {
    return (await this.session.query('SELECT * FROM log_entries WHERE job = $1 AND trace_key = $2 ORDER BY started_at, id', [job, traceKey])).map(toLogEntry);
  }

  async logData(entry: number, stage: string): Promise<string[]> {
    return (await this.session.query<{ data: string }>('SELECT data FROM log_data WHERE entry = $1 AND stage = $2 ORDER BY seq', [entry, stage])).map((r) => r.data);
  }

  async logDataStages(entry: number): Promise<string[]> {
    return (await this.session.query<{ stage: string }>('SELECT DISTINCT stage FROM log_data WHERE entry = $1 ORDER BY stage', [entry])).map((r) => r.stage);
  }

  async logChildren(job: number, step: number, parentRecordId: string, status: LogEntryRow['status'] | undefined, offset: number, limit: number): Promise<LogEntryRow[]> {
    const params: unknown[] = [job, step, parentRecordId];
    if (status) params.push(status);
    params.push(limit, offset);
    const n = params.length;
    const sql = `SELECT * FROM log_entries WHERE job = $1 AND step = $2 AND parent_record_id = $3${status ? ' AND status = $4' : ''}
      ORDER BY started_at, id LIMIT $${n - 1} OFFSET $${n}`;
    return (await this.session.query(sql, params)).map(toLogEntry);
  }

  csvRows(q: CsvChunkQuery, ctx: QueryContext, fromId: number, chunk: number): AsyncIterable<unknown[][]> {
    return pgCsvRows(this.session, q, ctx, fromId, chunk);
  }

  async usersCreatedAt(): Promise<Map<number, number>> {
    const rows = await this.session.query<{ id: number; created_at: number }>('SELECT id, created_at FROM users');
    return new Map(rows.map((r) => [r.id, r.created_at]));
  }

  async tagNames(): Promise<Map<string, string>> {
    const rows = await this.session.query<{ code: string; name: string }>('SELECT code, name FROM tags ORDER BY lower(name), name');
    return new Map(rows.map((r) => [r.code, r.name]));
  }
}
