import type { Statement } from 'better-sqlite3';
import { compileErrorQuery, type QueryContext } from './error-query.js';
import type { LogEntryRow, RetryDataRow, TraceRow } from '../contract/rows.js';
import { errorWalk, type SqliteCore } from './core.js';
import type { RetryDataReplacement, ErrorSnapshotRef, TraceFilter, TraceSummaryRow, LogEntryFilter, CsvChunkQuery } from '../contract/queries.js';
export type { RetryDataReplacement, ErrorSnapshotRef, TraceFilter, TraceSummaryRow, LogEntryFilter, CsvChunkQuery } from '../contract/queries.js';

// The SQL behind retry data, request traces, execution logs, trace-key job search and the CSV
// export. It sits beside SqliteCore (using its statement cache and transactions) so those
// features add no code to the store class.

type Raw = Record<string, unknown>;







/** A compiled CSV chunk query: run it with (fromId, limit) appended to `params`. */
export interface CsvChunkStatement {
  statement: Statement;
  params: unknown[];
}

/**
 * Bounds for `column >= lo AND column < hi` that select exactly the strings starting with `prefix`
 * under SQLite's BINARY collation, so a prefix search walks an index range.
 */
export function prefixRange(prefix: string): [string, string] {
  return [prefix, `${prefix}\u{10FFFF}`];
}

function toLogEntry(r: Raw): LogEntryRow {
  return {
    id: r.id as number,
    job: r.job as number,
    step: r.step as number,
    recordId: r.record_id as string,
    groupId: r.group_id as string,
    parentRecordId: (r.parent_record_id as string | null) ?? null,
    traceKey: (r.trace_key as string | null) ?? null,
    status: r.status as LogEntryRow['status'],
    stage: (r.stage as string | null) ?? null,
    startedAt: r.started_at as number,
    completedAt: (r.completed_at as number | null) ?? null,
    timeTaken: (r.time_taken as number | null) ?? null,
  };
}

// The CSV chunk layout is the contract's (any store's csvRows gives rows in it).
export { CSV_SLOTS } from '../contract/csv.js';

const CSV_SELECT = `e.occurred_at, e.source, e.code, e.message, e.trace_key, e.retry_data_sec, e.trace_sec, e.o_index, e.retry_data, e.id,
  NULL, e.trace, e.purge_at, e.tags, e.assignee, e.assigned_by, e.assignee_user`;

export class RecordsRepo {
  constructor(private readonly store: SqliteCore) {}

  transaction<T>(fn: () => T): T {
    return this.store.transaction(fn);
  }

  audit(entry: Parameters<SqliteCore['audit']>[0]): void {
    this.store.audit(entry);
  }

  // ---- retry data ------------------------------------------------------------------------------

  getRetryData(id: number): RetryDataRow | undefined {
    return this.store.getRetryData(id);
  }

  replaceRetryData(id: number, v: RetryDataReplacement, at: number): void {
    this.store
      .stmt(
        `UPDATE retry_data SET data = ?, one_to_many = ?, path_to_many = ?, child_index = ?, trace_key = ?, adaptor_response = ?, updated_at = ?
         WHERE id = ?`,
      )
      .run(v.data, v.oneToMany ? 1 : 0, v.pathToMany, v.childIndex, v.traceKey, v.adaptorResponse, at, id);
  }

  updateRetryDataJson(id: number, data: string, at: number): void {
    this.store.stmt('UPDATE retry_data SET data = ?, updated_at = ? WHERE id = ?').run(data, at, id);
  }

  /** The snapshot each error points at (null for connection-class errors), in the given order. */
  snapshotsOfErrors(errorIds: readonly number[]): ErrorSnapshotRef[] {
    const out: ErrorSnapshotRef[] = [];
    const stmt = this.store.stmt('SELECT id, occurred_at, retry_data FROM errors WHERE id = ?');
    for (const id of errorIds) {
      const r = stmt.get(id) as { id: number; occurred_at: number; retry_data: number | null } | undefined;
      if (r) out.push({ error: r.id, occurredAt: r.occurred_at, retryData: r.retry_data });
    }
    return out;
  }

  // ---- request traces -------------------------------------------------------------------------

  getTrace(id: number): TraceRow | undefined {
    return this.store.getTrace(id);
  }

  /** A step's traces newest first, walking ix_traces_step_time (step, time, rowid). */
  listTraces(step: number, f: TraceFilter, limit: number): TraceSummaryRow[] {
    const where = ['step = ?'];
    const params: unknown[] = [step];
    if (f.timeLte !== undefined) {
      where.push('time <= ?');
      params.push(f.timeLte);
    }
    if (f.timeGt !== undefined) {
      where.push('time > ?');
      params.push(f.timeGt);
    }
    if (f.statusCode !== undefined) {
      where.push('status_code = ?');
      params.push(f.statusCode);
    }
    if (f.method !== undefined) {
      where.push('method = ?');
      params.push(f.method);
    }
    if (f.stage !== undefined) {
      where.push('stage = ?');
      params.push(f.stage);
    }
    if (f.before) {
      where.push('(time < ? OR (time = ? AND id < ?))');
      params.push(f.before.time, f.before.time, f.before.id);
    }
    params.push(limit);
    const sql = `SELECT id, time, method, status_code, stage FROM traces WHERE ${where.join(' AND ')} ORDER BY time DESC, id DESC LIMIT ?`;
    return (this.store.stmt(sql).all(...params) as Raw[]).map((r) => ({
      id: r.id as number,
      time: r.time as number,
      method: r.method as string,
      statusCode: (r.status_code as number | null) ?? null,
      stage: r.stage as string,
    }));
  }

  /** Deletes traces of a step and clears the errors' pointers to them (ix_errors_trace finds those). */
  deleteTraces(step: number, ids: readonly number[]): void {
    const unlink = this.store.stmt('UPDATE errors SET trace = NULL, trace_sec = NULL WHERE trace = ?');
    const remove = this.store.stmt('DELETE FROM traces WHERE id = ? AND step = ?');
    for (const id of ids) {
      unlink.run(id);
      remove.run(id, step);
    }
  }

  // ---- jobs by trace key ----------------------------------------------------------------------

  /**
   * Top-level jobs (flow runs and retries) of a flow that produced an error or a log entry whose
   * trace key starts with `prefix`, newest first. Both walk a trace_key index range.
   */
  jobIdsByTraceKeyPrefix(flowId: string, prefix: string, limit: number): number[] {
    const [lo, hi] = prefixRange(prefix);
    const sql = `SELECT j.id FROM jobs j
      WHERE j.id IN (
          SELECT job FROM errors WHERE trace_key >= ? AND trace_key < ? AND job IS NOT NULL
          UNION SELECT job FROM log_entries WHERE trace_key >= ? AND trace_key < ?)
        AND j.flow_id = ? AND j.parent_id IS NULL
      ORDER BY j.id DESC LIMIT ?`;
    return this.store.stmt(sql).pluck().all(lo, hi, lo, hi, flowId, limit) as number[];
  }

  // ---- execution logs -------------------------------------------------------------------------

  listLogEntries(job: number, f: LogEntryFilter): LogEntryRow[] {
    const where = ['job = ?'];
    const params: unknown[] = [job];
    if (f.status) {
      where.push('status = ?');
      params.push(f.status);
    }
    if (f.steps && f.steps.length > 0) {
      where.push(`step IN (${f.steps.map(() => '?').join(', ')})`);
      params.push(...f.steps);
    }
    if (f.traceKeyPrefix !== undefined && f.traceKeyPrefix !== '') {
      const [lo, hi] = prefixRange(f.traceKeyPrefix);
      where.push('trace_key >= ? AND trace_key < ?');
      params.push(lo, hi);
    }
    const cmp = f.order === 'asc' ? '>' : '<';
    if (f.after) {
      where.push(`(started_at ${cmp} ? OR (started_at = ? AND id ${cmp} ?))`);
      params.push(f.after.startedAt, f.after.startedAt, f.after.id);
    }
    const dir = f.order === 'asc' ? 'ASC' : 'DESC';
    params.push(f.limit);
    const sql = `SELECT * FROM log_entries WHERE ${where.join(' AND ')} ORDER BY started_at ${dir}, id ${dir} LIMIT ?`;
    return (this.store.stmt(sql).all(...params) as Raw[]).map(toLogEntry);
  }

  getLogEntry(id: number): LogEntryRow | undefined {
    const r = this.store.stmt('SELECT * FROM log_entries WHERE id = ?').get(id) as Raw | undefined;
    return r ? toLogEntry(r) : undefined;
  }

  /** Entries of a job with this record id on any of `steps` (ix_log_entries_record). */
  findLogEntries(job: number, steps: readonly number[], recordId: string): LogEntryRow[] {
    if (steps.length === 0) return [];
    const sql = `SELECT * FROM log_entries WHERE job = ? AND step IN (${steps.map(() => '?').join(', ')}) AND record_id = ? ORDER BY started_at, id`;
    return (this.store.stmt(sql).all(job, ...steps, recordId) as Raw[]).map(toLogEntry);
  }

  /** Every entry of a job sharing a trace key (ix_log_entries_trace), in pipeline order. */
  logEntriesByTraceKey(job: number, traceKey: string): LogEntryRow[] {
    const sql = 'SELECT * FROM log_entries WHERE job = ? AND trace_key = ? ORDER BY started_at, id';
    return (this.store.stmt(sql).all(job, traceKey) as Raw[]).map(toLogEntry);
  }

  logData(entry: number, stage: string): string[] {
    return this.store.stmt('SELECT data FROM log_data WHERE entry = ? AND stage = ? ORDER BY seq').pluck().all(entry, stage) as string[];
  }

  logDataStages(entry: number): string[] {
    return this.store.stmt('SELECT DISTINCT stage FROM log_data WHERE entry = ? ORDER BY stage').pluck().all(entry) as string[];
  }

  /** Child entries of a record at a step, oldest first, offset-paged as the API pages them. */
  logChildren(job: number, step: number, parentRecordId: string, status: LogEntryRow['status'] | undefined, offset: number, limit: number): LogEntryRow[] {
    const sql = `SELECT * FROM log_entries WHERE job = ? AND step = ? AND parent_record_id = ?${status ? ' AND status = ?' : ''}
      ORDER BY started_at, id LIMIT ? OFFSET ?`;
    const params: unknown[] = [job, step, parentRecordId];
    if (status) params.push(status);
    params.push(limit, offset);
    return (this.store.stmt(sql).all(...params) as Raw[]).map(toLogEntry);
  }

  // ---- flows ----------------------------------------------------------------------------------

  setFlowDisabled(flowId: string, disabled: boolean): void {
    this.store.setFlowDisabled(flowId, disabled);
  }

  // ---- CSV export -----------------------------------------------------------------------------

  /**
   * One prepared statement for a CSV export of one step: ascending error ids from a keyset cursor,
   * raw arrays in CSV_SLOTS order (preceded by resolvedAt, resolvedBy for resolved exports and by
   * the step id for whole-flow exports). A tag or text filter drives the walk the way listings do.
   */
  csvChunkStatement(q: CsvChunkQuery, ctx: QueryContext): CsvChunkStatement {
    const compiled = compileErrorQuery(q.terms, ctx, { step: q.step });
    const params: unknown[] = [];
    const lead: string[] = [];
    if (q.stepColumn !== undefined) {
      lead.push('? AS step_id');
      params.push(q.stepColumn);
    }
    if (q.resolved) lead.push('e.resolved_at', 'e.resolved_by');
    // The same walk as a listing (the key seconds are the error's own columns, so only data.*
    // terms join the snapshot row), ascending from the keyset cursor.
    const walk = errorWalk(q.step, q.resolved, compiled);
    const { from, key } = walk;
    const where = [...walk.where, `${key} >= ?`];
    params.push(...walk.params);
    const columns = [...lead, CSV_SELECT].join(', ');
    const sql = `SELECT ${columns} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${key} ASC LIMIT ?`;
    const statement = this.store.stmt(sql);
    statement.raw(true);
    return { statement, params };
  }

  /** User row id → created_at, for _assignedToUserId (users are people: a small table). */
  usersCreatedAt(): Map<number, number> {
    const rows = this.store.stmt('SELECT id AS user_row, created_at AS user_created_at FROM users').raw(true).all() as Array<[number, number]>;
    return new Map(rows);
  }

  /** Tag code → name, for the CSV's tags column. */
  tagNames(): Map<string, string> {
    return new Map(this.store.tagCatalog().map((t) => [t.code, t.name]));
  }

  /**
   * Shrinks this connection's page cache while `fn` runs: a sequential export of a million rows
   * gains nothing from 64 MiB of cached pages but would hold them in RSS.
   */
  /** A small page cache while a long read (a CSV export) runs; the function given back restores it. */
  useSmallCache(kib = 8192): () => void {
    const db = this.store.db;
    const before = db.pragma('cache_size', { simple: true }) as number;
    db.pragma(`cache_size = -${kib}`);
    return () => db.pragma(`cache_size = ${before}`);
  }
}
