import type { Statement } from 'better-sqlite3';
import type { JobStatus, JobType } from '../../domain/api.js';
import { NotFoundError } from '../../domain/errors.js';
import { COUNTER_FIELDS, JOB_FIELDS } from '../shared/job-columns.js';
import { AUDIT_COLUMNS, auditValues, LOG_ENTRY_COLUMNS, logEntryValues } from '../shared/row-values.js';
import type { AuditEntry } from '../contract/ports.js';
import { idSecondsSql } from '../../domain/ids.js';
import { MASKING_VERSION } from '../../domain/mask.js';
import { Signer } from '../../domain/signature.js';
import type { Catalog } from '../../flows/load.js';
import { openDatabase, type Db, type OpenOptions } from './db.js';
import { compileErrorQuery, type CompiledQuery, ftsStepToken, type IndexedTerm, type QueryContext, type QueryTimes } from './error-query.js';
import type {
  ErrorKey,
  ErrorRow,
  FlowRow,
  JobCounters,
  JobRow,
  NewError,
  NewLogEntry,
  NewRetryData,
  NewTrace,
  RetryDataRow,
  StepErrorStats,
  StepRow,
  TraceRow,
} from '../contract/rows.js';
import type { ErrorListQuery, IdRange } from '../contract/queries.js';
export type { ErrorListQuery, IdRange } from '../contract/queries.js';

// The SQLite implementation of the store. It owns its connection and every statement; callers
// group writes with `transaction()` so a page of outcomes or a bulk action commits atomically.


type Raw = Record<string, unknown>;

// The key seconds of the trace and snapshot are the error's own columns (migration 4): reading an error
// reads no ~1 KB trace or snapshot row. Jobs and users are narrow tables.
const ERROR_COLUMNS = `e.id, e.step, e.resolved, e.occurred_at, e.source, e.code, e.message, e.o_index, e.job,
  e.trace_key, e.classification, e.classified_by, e.trace, e.trace_sec, e.retry_data, e.retry_data_sec, e.purge_at, e.retry_at, e.tags,
  e.assignee, e.assigned_by, e.assignee_user, e.resolved_at, e.resolved_by,
  (SELECT created_at FROM jobs WHERE id = e.job) AS job_created_at,
  (SELECT created_at FROM users WHERE id = e.assignee_user) AS assignee_user_created_at`;

// insertError takes the key seconds from the rows the error points at, so no caller can get them wrong.
const INSERT_ERROR = `INSERT INTO errors (step, resolved, occurred_at, source, code, message, o_index, job, trace_key, classification,
    classified_by, trace, trace_sec, retry_data, retry_data_sec, purge_at, retry_at, tags, assignee, assigned_by, assignee_user, sig)
  VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?,
    ?, (SELECT ${idSecondsSql('time')} FROM traces WHERE id = ?),
    ?, (SELECT ${idSecondsSql('created_at')} FROM retry_data WHERE id = ?),
    ?, ?, ?, ?, ?, ?, ?)`;
// A signature's first error records its parts; later ones find the row there (a primary-key probe).
const INSERT_SIG = `INSERT INTO error_sigs (id, step, code, source, classification, template, first_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO NOTHING`;

function toErrorRow(r: Raw): ErrorRow {
  return {
    id: r.id as number,
    step: r.step as number,
    resolved: r.resolved === 1,
    occurredAt: r.occurred_at as number,
    source: r.source as string,
    code: r.code as string,
    message: r.message as string,
    oIndex: (r.o_index as string | null) ?? null,
    job: (r.job as number | null) ?? null,
    jobCreatedAt: (r.job_created_at as number | null) ?? null,
    traceKey: (r.trace_key as string | null) ?? null,
    classification: (r.classification as string | null) ?? null,
    classifiedBy: (r.classified_by as string | null) ?? null,
    trace: (r.trace as number | null) ?? null,
    traceSeconds: (r.trace_sec as number | null) ?? null,
    retryData: (r.retry_data as number | null) ?? null,
    retryDataSeconds: (r.retry_data_sec as number | null) ?? null,
    purgeAt: (r.purge_at as number | null) ?? null,
    retryAt: (r.retry_at as number | null) ?? null,
    tags: r.tags ? (JSON.parse(r.tags as string) as string[]) : [],
    assignee: (r.assignee as string | null) ?? null,
    assignedBy: (r.assigned_by as string | null) ?? null,
    assigneeUser: (r.assignee_user as number | null) ?? null,
    assigneeUserCreatedAt: (r.assignee_user_created_at as number | null) ?? null,
    resolvedAt: (r.resolved_at as number | null) ?? null,
    resolvedBy: (r.resolved_by as string | null) ?? null,
  };
}

function toJobRow(r: Raw): JobRow {
  return {
    id: r.id as number,
    type: r.type as JobType,
    status: r.status as JobStatus,
    flowId: (r.flow_id as string | null) ?? null,
    step: (r.step as number | null) ?? null,
    parentId: (r.parent_id as number | null) ?? null,
    retryOf: (r.retry_of as number | null) ?? null,
    createdAt: r.created_at as number,
    startedAt: (r.started_at as number | null) ?? null,
    endedAt: (r.ended_at as number | null) ?? null,
    lastModified: r.last_modified as number,
    triggeredBy: (r.triggered_by as string | null) ?? null,
    canceledBy: (r.canceled_by as string | null) ?? null,
    numError: r.num_error as number,
    numSuccess: r.num_success as number,
    numIgnore: r.num_ignore as number,
    numExport: r.num_export as number,
    numPagesGenerated: r.num_pages_generated as number,
    numPagesProcessed: r.num_pages_processed as number,
    doneExporting: r.done_exporting === 1,
    logMode: (r.log_mode as string | null) ?? null,
    ownerPid: (r.owner_pid as number | null) ?? null,
    heartbeatAt: (r.heartbeat_at as number | null) ?? null,
    options: (r.options as string | null) ?? null,
    note: (r.note as string | null) ?? null,
  };
}

function toStepRow(r: Raw): StepRow {
  return {
    key: r.id as number,
    flowId: r.flow_id as string,
    stepId: r.step_id as string,
    kind: r.kind as StepRow['kind'],
    name: r.name as string,
    position: r.position as number,
  };
}

function toFlowRow(r: Raw): FlowRow {
  return {
    id: r.id as string,
    name: r.name as string,
    file: r.file as string,
    definition: r.definition as string,
    disabled: (r.disabled_override ?? r.disabled_in_file) === 1,
    removed: r.removed === 1,
    lastExecutedAt: (r.last_executed_at as number | null) ?? null,
  };
}


/**
 * Error ids increase with occurred_at, up to the skew of writers that took their time just before
 * waiting for the write lock (busy_timeout is 10 s) or of a clock step: a `since`/`until` bound moved
 * out by this much and turned into an id bound never drops a matching row. occurred_at is still
 * compared exactly.
 */
export const ID_TIME_SKEW_MS = 60_000;

/** Rows of each candidate index read to compare the density of equality terms (see sparsestIndexedTerm). */
const DENSITY_WINDOW = 1024;

/** What a listing asks the store while it is planned: row-id bounds for times, and term densities. */
export interface ListingStats {
  /** The smallest error row id whose occurred_at is at or after `time`, by binary search over row ids. */
  firstErrorIdAt(time: number): number;
  /** Of the indexed terms, the one with the fewest rows in the first window of the walk (see SqliteCore). */
  sparsestIndexedTerm(step: number, resolved: boolean, terms: readonly IndexedTerm[], range: IdRange): IndexedTerm;
}


/** The listing's cursor and, with the store's help, its times as one row-id range of the walk. */
export function idRange(q: Pick<ErrorListQuery, 'fromId' | 'beforeId'>, times: QueryTimes, stats: ListingStats | undefined): IdRange {
  const ascending = q.fromId !== undefined;
  let lower = q.fromId;
  let upper = ascending ? undefined : q.beforeId;
  if (stats && times.since !== undefined) {
    const id = stats.firstErrorIdAt(times.since - ID_TIME_SKEW_MS);
    lower = Math.max(lower ?? id, id);
  }
  if (stats && times.until !== undefined) {
    const id = stats.firstErrorIdAt(times.until + ID_TIME_SKEW_MS + 1);
    upper = Math.min(upper ?? id, id);
  }
  const range: IdRange = { ascending };
  if (lower !== undefined) range.lower = lower;
  if (upper !== undefined) range.upper = upper;
  return range;
}

/**
 * What a listing or an export walks: the driver (errors of the step, or a tag's or a text match's
 * entries) read in id order by `key`, and the filters every row must pass.
 */
/**
 * A row-id range as WHERE terms on `key`. The bounds are expressions, not bare parameters, so the
 * planner does not estimate the range from their values (STAT4): with them it may misjudge a row-id
 * range enough to prefer a skip-scan of ix_errors_job and a sort over the driving structure, which
 * keeps the id order for free.
 */
export function addIdRange(where: string[], params: unknown[], key: string, lower: number | undefined, upper: number | undefined): void {
  if (lower !== undefined) {
    where.push(`${key} >= CAST(? AS INTEGER)`);
    params.push(lower);
  }
  if (upper !== undefined) {
    where.push(`${key} < CAST(? AS INTEGER)`);
    params.push(upper);
  }
}

export function errorWalk(step: number, resolved: boolean, compiled: CompiledQuery): { from: string; key: string; where: string[]; params: unknown[] } {
  const flag = resolved ? 1 : 0;
  const where: string[] = [];
  const params: unknown[] = [];
  let from = 'errors e';
  let key = 'e.id';
  if (compiled.driver?.kind === 'tag') {
    from = 'error_tags d JOIN errors e ON e.id = d.error';
    key = 'd.error';
    where.push('d.tag = ?', 'd.step = ?', 'd.resolved = ?');
    params.push(compiled.driver.code, step, flag);
  } else if (compiled.driver?.kind === 'text') {
    from = 'errors_fts JOIN errors e ON e.id = errors_fts.rowid';
    key = 'errors_fts.rowid';
    where.push('errors_fts MATCH ?');
    params.push(compiled.driver.match);
  }
  if (compiled.needsRetryData) from += ' LEFT JOIN retry_data r ON r.id = e.retry_data';
  where.push('e.step = ?', 'e.resolved = ?', ...compiled.where);
  params.push(step, flag, ...compiled.params);
  return { from, key, where, params };
}

export function buildErrorListing(
  q: ErrorListQuery,
  ctx: QueryContext,
  options: { idsOnly?: boolean; stats?: ListingStats } = {},
): { sql: string; params: unknown[] } {
  const { stats } = options;
  let range: IdRange | undefined;
  const rangeFor = (times: QueryTimes): IdRange => (range ??= idRange(q, times, stats));
  const compiled = compileErrorQuery(q.terms, ctx, {
    step: q.step,
    ...(stats ? { pickIndexedDriver: (terms: readonly IndexedTerm[], times: QueryTimes) => stats.sparsestIndexedTerm(q.step, q.resolved, terms, rangeFor(times)) } : {}),
  });
  const { lower, upper, ascending } = rangeFor(compiled);
  const { from, key, where, params } = errorWalk(q.step, q.resolved, compiled);
  addIdRange(where, params, key, lower, upper);
  params.push(q.limit);
  const columns = options.idsOnly ? 'e.id' : ERROR_COLUMNS;
  return { sql: `SELECT ${columns} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${key} ${ascending ? 'ASC' : 'DESC'} LIMIT ?`, params };
}

export class SqliteCore implements ListingStats {
  readonly db: Db;
  private readonly statements = new Map<string, Statement>();
  private readonly closeHooks: Array<() => void> = [];
  /** Signs recorded errors (memoised templates: a run repeats its messages). */
  readonly signer = new Signer();
  /**
   * Signatures whose error_sigs row exists (seen already there by an insert), so recording skips the
   * probe. A rolled-back transaction may have held the row it saw: transaction() forgets them all then.
   */
  private readonly knownSigs = new Set<number>();

  constructor(file: string, options: OpenOptions = {}) {
    this.db = openDatabase(file, options);
  }

  get readonly(): boolean {
    return this.db.readonly;
  }

  close(): void {
    try {
      this.db.pragma('optimize');
    } catch {
      // optimize is advice; a busy or read-only database may decline it
    }
    this.db.close();
    for (const fn of this.closeHooks.splice(0)) fn();
  }

  /** Runs after the connection closes (a read-only snapshot copy removes its files). */
  onClose(fn: () => void): void {
    this.closeHooks.push(fn);
  }

  /** Prepared once per connection, then reused: statement compilation dominates small queries. */
  stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** After a rollback: a signature row seen inside it may be gone. */
  forgetKnownSignatures(): void {
    this.knownSigs.clear();
  }

  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      this.knownSigs.clear();
      throw e;
    }
  }

  // ---- meta ---------------------------------------------------------------------------------

  /**
   * Changes since this stamp was read, by this connection (total_changes) or by any other
   * (data_version): two equal stamps saw the same data, so what was read under the first still holds.
   */
  changeStamp(): string {
    const row = this.stmt('SELECT total_changes() AS t, data_version AS d FROM pragma_data_version()').get() as { t: number; d: number };
    return `${row.t}.${row.d}`;
  }

  getMeta(key: string): string | undefined {
    return (this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Replaces a JSON meta value only while its `field` still holds `expected` (compare and set); whether it did. */
  setMetaIf(key: string, field: string, expected: number | string, value: string): boolean {
    return this.stmt('UPDATE meta SET value = ? WHERE key = ? AND json_extract(value, ?) = ?').run(value, key, `$.${field}`, expected).changes === 1;
  }

  deleteMeta(key: string): void {
    this.stmt('DELETE FROM meta WHERE key = ?').run(key);
  }

  // ---- definitions --------------------------------------------------------------------------

  /** Mirrors the flow files into the store; flows gone from the files are kept, marked removed. */
  syncCatalog(catalog: Catalog, maskDefinition: (def: unknown) => unknown): void {
    // The masking's version is part of the digest: definitions stored by an older, narrower
    // masking are rewritten even when the flow files did not change. A read-only store keeps the
    // definitions it has: its reads still work, and nothing else may write.
    const digest = `${catalog.digest}:mask${MASKING_VERSION}`;
    if (this.readonly || this.getMeta('catalog_digest') === digest) return;
    this.transaction(() => {
      const upConnection = this.stmt(`INSERT INTO connections (id, name, base_uri, definition) VALUES (?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, base_uri = excluded.base_uri, definition = excluded.definition`);
      for (const c of catalog.connections.values()) {
        // The baseURI column too: credentials in it (http://svc:PASS@host) are masked.
        const masked = maskDefinition(c.def) as { http: { baseURI: string } };
        upConnection.run(c.id, c.name, masked.http.baseURI, JSON.stringify(masked));
      }
      for (const [table, entries] of [
        ['exports', catalog.exports],
        ['imports', catalog.imports],
      ] as const) {
        const up = this.stmt(`INSERT INTO ${table} (id, name, connection_id, definition) VALUES (?, ?, ?, ?)
          ON CONFLICT (id) DO UPDATE SET name = excluded.name, connection_id = excluded.connection_id, definition = excluded.definition`);
        for (const e of entries.values()) up.run(e.id, e.name, e.connectionId, JSON.stringify(maskDefinition(e.def)));
      }
      const upFlow = this.stmt(`INSERT INTO flows (id, name, file, definition, disabled_in_file, removed) VALUES (?, ?, ?, ?, ?, 0)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, file = excluded.file, definition = excluded.definition,
          disabled_in_file = excluded.disabled_in_file, removed = 0`);
      const upStep = this.stmt(`INSERT INTO steps (flow_id, step_id, kind, name, position) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (flow_id, step_id) DO UPDATE SET kind = excluded.kind, name = excluded.name, position = excluded.position`);
      this.stmt('UPDATE flows SET removed = 1').run();
      for (const f of catalog.flows.values()) {
        upFlow.run(f.id, f.name, f.file, JSON.stringify(maskDefinition(f.def)), f.def.disabled ? 1 : 0);
        // Steps that left the flow keep their rows (their errors stay listable) at the end.
        this.stmt('UPDATE steps SET position = 1000 + position WHERE flow_id = ? AND position < 1000').run(f.id);
        for (const s of f.steps) upStep.run(f.id, s.id, s.kind, s.name, s.position);
      }
      this.setMeta('catalog_digest', digest);
    });
  }

  listFlows(): FlowRow[] {
    return (this.stmt('SELECT * FROM flows ORDER BY removed, name').all() as Raw[]).map(toFlowRow);
  }

  getFlow(id: string): FlowRow | undefined {
    const r = this.stmt('SELECT * FROM flows WHERE id = ?').get(id) as Raw | undefined;
    return r ? toFlowRow(r) : undefined;
  }

  setFlowDisabled(id: string, disabled: boolean): void {
    this.stmt('UPDATE flows SET disabled_override = ? WHERE id = ?').run(disabled ? 1 : 0, id);
  }

  touchFlow(id: string, at: number): void {
    this.stmt('UPDATE flows SET last_executed_at = ? WHERE id = ?').run(at, id);
  }

  steps(flowId: string): StepRow[] {
    return (this.stmt('SELECT * FROM steps WHERE flow_id = ? ORDER BY position').all(flowId) as Raw[]).map(toStepRow);
  }

  step(key: number): StepRow | undefined {
    const r = this.stmt('SELECT * FROM steps WHERE id = ?').get(key) as Raw | undefined;
    return r ? toStepRow(r) : undefined;
  }

  // ---- jobs ---------------------------------------------------------------------------------

  insertJob(job: {
    type: JobType;
    status: JobStatus;
    flowId?: string | undefined;
    step?: number | undefined;
    parentId?: number | undefined;
    retryOf?: number | undefined;
    createdAt: number;
    triggeredBy?: string | undefined;
    logMode?: string | undefined;
    options?: unknown;
  }): number {
    const result = this.stmt(`INSERT INTO jobs (type, status, flow_id, step, parent_id, retry_of, created_at, last_modified, triggered_by, log_mode, options)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      job.type,
      job.status,
      job.flowId ?? null,
      job.step ?? null,
      job.parentId ?? null,
      job.retryOf ?? null,
      job.createdAt,
      job.createdAt,
      job.triggeredBy ?? null,
      job.logMode ?? null,
      job.options === undefined ? null : JSON.stringify(job.options),
    );
    return Number(result.lastInsertRowid);
  }

  updateJob(id: number, patch: Partial<Pick<JobRow, 'status' | 'startedAt' | 'endedAt' | 'canceledBy' | 'doneExporting' | 'ownerPid' | 'heartbeatAt' | 'note' | 'logMode' | 'options'>>, at: number): void {
    const sets: string[] = ['last_modified = ?'];
    const params: unknown[] = [at];
    for (const [key, value] of Object.entries(patch)) {
      const column = JOB_FIELDS[key];
      if (!column) continue;
      sets.push(`${column} = ?`);
      params.push(typeof value === 'boolean' ? (value ? 1 : 0) : (value ?? null));
    }
    params.push(id);
    this.stmt(`UPDATE jobs SET ${sets.join(', ')} WHERE id = ?`).run(...params);
  }

  /** Moves a job from one of `from` to `to`; a job in any other state (canceling!) is left alone. */
  setJobStatusIf(id: number, from: readonly JobStatus[], to: JobStatus, at: number): boolean {
    return (
      this.stmt('UPDATE jobs SET status = ?, last_modified = ? WHERE id = ? AND status IN (SELECT value FROM json_each(?))').run(to, at, id, JSON.stringify(from))
        .changes === 1
    );
  }

  addJobCounters(id: number, counters: JobCounters, at: number): void {
    const sets: string[] = ['last_modified = ?'];
    const params: unknown[] = [at];
    for (const [key, value] of Object.entries(counters)) {
      if (!value) continue;
      const column = COUNTER_FIELDS[key as keyof JobCounters];
      sets.push(`${column} = ${column} + ?`);
      params.push(value);
    }
    params.push(id);
    this.stmt(`UPDATE jobs SET ${sets.join(', ')} WHERE id = ?`).run(...params);
  }

  getJob(id: number): JobRow | undefined {
    const r = this.stmt('SELECT * FROM jobs WHERE id = ?').get(id) as Raw | undefined;
    return r ? toJobRow(r) : undefined;
  }

  listJobs(filter: {
    flowId?: string | undefined;
    type?: JobType | undefined;
    status?: JobStatus | undefined;
    triggeredBy?: string | undefined;
    /** Keyset paging, newest first: only jobs older than this row id. */
    beforeId?: number | undefined;
    topLevel?: boolean;
    limit: number;
  }): JobRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.triggeredBy !== undefined) {
      where.push('triggered_by = ? COLLATE NOCASE');
      params.push(filter.triggeredBy);
    }
    if (filter.beforeId !== undefined) {
      where.push('id < ?');
      params.push(filter.beforeId);
    }
    if (filter.flowId) {
      where.push('flow_id = ?');
      params.push(filter.flowId);
    }
    if (filter.type) {
      where.push('type = ?');
      params.push(filter.type);
    }
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.topLevel) where.push('parent_id IS NULL');
    params.push(filter.limit);
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.stmt(sql).all(...params) as Raw[]).map(toJobRow);
  }

  childJobs(parentId: number): JobRow[] {
    return (this.stmt('SELECT * FROM jobs WHERE parent_id = ? ORDER BY id').all(parentId) as Raw[]).map(toJobRow);
  }

  activeJobs(): JobRow[] {
    return (this.stmt(`SELECT * FROM jobs WHERE status IN ('queued', 'running', 'retrying', 'canceling') ORDER BY id`).all() as Raw[]).map(toJobRow);
  }

  /** Open and resolved error counts of a job (optionally one step of it), derived, never stored. */
  jobErrorCounts(job: number, step?: number): { open: number; resolved: number } {
    const rows = (
      step === undefined
        ? this.stmt('SELECT resolved, count(*) AS n FROM errors WHERE job = ? GROUP BY resolved').all(job)
        : this.stmt('SELECT resolved, count(*) AS n FROM errors WHERE job = ? AND step = ? GROUP BY resolved').all(job, step)
    ) as Array<{ resolved: number; n: number }>;
    return {
      open: rows.find((r) => r.resolved === 0)?.n ?? 0,
      resolved: rows.find((r) => r.resolved === 1)?.n ?? 0,
    };
  }

  // ---- failures: retry data, traces, errors, logs ---------------------------------------------

  insertRetryData(r: NewRetryData): number {
    const result = this.stmt(`INSERT INTO retry_data (step, created_at, updated_at, stage, pg_export_id, one_to_many, trace_key, data, adaptor_response, attempts)
      VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`).run(
      r.step,
      r.createdAt,
      r.createdAt,
      r.stage,
      r.pgExportId ?? null,
      r.traceKey ?? null,
      JSON.stringify(r.data ?? null),
      r.adaptorResponse === undefined ? null : JSON.stringify(r.adaptorResponse),
      r.attempts ?? 0,
    );
    return Number(result.lastInsertRowid);
  }

  getRetryData(id: number): RetryDataRow | undefined {
    const r = this.stmt('SELECT * FROM retry_data WHERE id = ?').get(id) as Raw | undefined;
    if (!r) return undefined;
    return {
      id: r.id as number,
      step: r.step as number,
      createdAt: r.created_at as number,
      updatedAt: r.updated_at as number,
      stage: r.stage as string,
      pgExportId: (r.pg_export_id as string | null) ?? null,
      oneToMany: r.one_to_many === 1,
      pathToMany: (r.path_to_many as string | null) ?? null,
      childIndex: (r.child_index as number | null) ?? null,
      traceKey: (r.trace_key as string | null) ?? null,
      data: r.data as string,
      adaptorResponse: (r.adaptor_response as string | null) ?? null,
      attempts: r.attempts as number,
    };
  }

  insertTrace(t: NewTrace): number {
    const result = this.stmt(`INSERT INTO traces (step, time, stage, method, status_code, request, response) VALUES (?, ?, ?, ?, ?, ?, ?)`).run(
      t.step,
      t.time,
      t.stage,
      t.method,
      t.statusCode ?? null,
      JSON.stringify(t.request),
      JSON.stringify(t.response),
    );
    return Number(result.lastInsertRowid);
  }

  getTrace(id: number): TraceRow | undefined {
    const r = this.stmt('SELECT * FROM traces WHERE id = ?').get(id) as Raw | undefined;
    if (!r) return undefined;
    return {
      id: r.id as number,
      step: r.step as number,
      time: r.time as number,
      stage: r.stage as string,
      method: r.method as string,
      statusCode: (r.status_code as number | null) ?? null,
      request: r.request as string,
      response: r.response as string,
    };
  }

  insertError(e: NewError): number {
    const tags = e.tags && e.tags.length > 0 ? e.tags : undefined;
    const trace = e.trace ?? null;
    const retryData = e.retryData ?? null;
    // The signature of the message as stored (masked), so a group never shows a secret either.
    const { sig, template } = this.signer.sign(e);
    if (!this.knownSigs.has(sig) && this.stmt(INSERT_SIG).run(sig, e.step, e.code, e.source, e.classification, template, e.occurredAt).changes === 0) {
      // The row was there before this statement: from now on it is not even probed.
      this.knownSigs.add(sig);
    }
    const result = this.stmt(INSERT_ERROR).run(
      e.step,
      e.occurredAt,
      e.source,
      e.code,
      e.message,
      e.oIndex ?? null,
      e.job ?? null,
      e.traceKey ?? null,
      e.classification,
      e.classifiedBy,
      trace,
      trace,
      retryData,
      retryData,
      e.purgeAt ?? null,
      e.retryAt ?? null,
      tags ? JSON.stringify(tags) : null,
      e.assignee ?? null,
      e.assignedBy ?? null,
      e.assigneeUser ?? null,
      sig,
    );
    const id = Number(result.lastInsertRowid);
    this.stmt('INSERT INTO errors_fts (rowid, message, step) VALUES (?, ?, ?)').run(id, e.message, ftsStepToken(e.step));
    if (tags) {
      const tag = this.stmt('INSERT INTO error_tags (tag, step, resolved, error) VALUES (?, ?, 0, ?)');
      for (const code of tags) tag.run(code, e.step, id);
    }
    return id;
  }

  /** The keys of many errors in one query per 1000 ids (checking explicit ids of a bulk action). */
  errorKeys(rowIds: readonly number[]): ErrorKey[] {
    const stmt = this.stmt('SELECT id, step, resolved, occurred_at FROM errors WHERE id IN (SELECT value FROM json_each(?))');
    const out: ErrorKey[] = [];
    for (let i = 0; i < rowIds.length; i += 1000) {
      for (const r of stmt.all(JSON.stringify(rowIds.slice(i, i + 1000))) as Raw[]) {
        out.push({ id: r.id as number, step: r.step as number, resolved: r.resolved === 1, occurredAt: r.occurred_at as number });
      }
    }
    return out;
  }

  getError(id: number): ErrorRow | undefined {
    const r = this.stmt(`SELECT ${ERROR_COLUMNS} FROM errors e WHERE e.id = ?`).get(id) as Raw | undefined;
    return r ? toErrorRow(r) : undefined;
  }

  insertLogEntry(entry: NewLogEntry): number {
    const result = this.stmt(`INSERT INTO log_entries (${LOG_ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...logEntryValues(entry));
    const id = Number(result.lastInsertRowid);
    if (entry.data) {
      const insert = this.stmt('INSERT INTO log_data (entry, stage, seq, data) VALUES (?, ?, ?, ?)');
      entry.data.forEach((d, seq) => insert.run(id, d.stage, seq, JSON.stringify(d.data)));
    }
    return id;
  }

  // ---- error listings -----------------------------------------------------------------------

  listErrors(q: ErrorListQuery, ctx: QueryContext): ErrorRow[] {
    const { sql, params } = buildErrorListing(q, ctx, { stats: this });
    return (this.stmt(sql).all(...params) as Raw[]).map(toErrorRow);
  }

  /** Row ids of every error matching the query, newest first (bulk actions select with this). */
  selectErrorIds(q: Omit<ErrorListQuery, 'limit'> & { limit?: number }, ctx: QueryContext): number[] {
    const { sql, params } = buildErrorListing({ ...q, limit: q.limit ?? -1 }, ctx, { idsOnly: true, stats: this });
    return this.stmt(sql).pluck().all(...params) as number[];
  }

  /** How many errors a listing would walk to its end (the ids-only listing, counted in SQLite). */
  countErrors(q: Omit<ErrorListQuery, 'limit'>, ctx: QueryContext): number {
    const { sql, params } = buildErrorListing({ ...q, limit: -1 }, ctx, { idsOnly: true, stats: this });
    return this.stmt(`SELECT count(*) FROM (${sql})`).pluck().get(...params) as number;
  }

  /** The query plan of a listing, for tests that prove no listing scans the errors table. */
  explainListErrors(q: ErrorListQuery, ctx: QueryContext): string[] {
    const { sql, params } = buildErrorListing(q, ctx, { stats: this });
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);
  }

  // ---- ListingStats: what planning a listing asks (a few index seeks, never a walk) --------------

  /**
   * The smallest error row id whose occurred_at is at or after `time` (one past the last id when
   * none is), by binary search over row ids: ids are handed out in time order (see ID_TIME_SKEW_MS),
   * so about 20 primary-key seeks answer it for a million errors, gaps from deletions included.
   */
  firstErrorIdAt(time: number): number {
    const last = (this.stmt('SELECT max(id) FROM errors').pluck().get() as number | null) ?? 0;
    const from = this.stmt('SELECT id, occurred_at AS at FROM errors WHERE id >= ? ORDER BY id LIMIT 1');
    let lo = 1;
    let hi = last + 1;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const row = from.get(mid) as { id: number; at: number };
      if (row.at >= time) hi = mid;
      else lo = row.id + 1; // no row between mid and row.id: the answer is past both
    }
    return lo;
  }

  /**
   * Of two or more indexed terms of a listing, the one whose index to walk: the sparsest in the
   * walk's first DENSITY_WINDOW rows of each term's own index (index-only, so ~0.1 ms each). A term
   * with fewer rows than that in the whole range wins outright (the fewest); otherwise the one whose
   * window reaches farthest from the walk's start has the fewest rows per id. The others are then
   * probed per walked row, so even a combination that matches nothing walks only the sparse term.
   */
  sparsestIndexedTerm(step: number, resolved: boolean, terms: readonly IndexedTerm[], range: IdRange): IndexedTerm {
    let best: { term: IndexedTerm; rows: number; reach: number } | undefined;
    for (const term of terms) {
      const where = [`step = ?`, `resolved = ?`, `${term.column} ${term.value === null ? 'IS NULL' : 'IS ?'}`];
      const params: unknown[] = [step, resolved ? 1 : 0];
      if (term.value !== null) params.push(term.value);
      if (range.lower !== undefined) {
        where.push('id >= ?');
        params.push(range.lower);
      }
      if (range.upper !== undefined) {
        where.push('id < ?');
        params.push(range.upper);
      }
      const window = `SELECT id FROM errors INDEXED BY ${term.index} WHERE ${where.join(' AND ')} ORDER BY id ${range.ascending ? 'ASC' : 'DESC'} LIMIT ${DENSITY_WINDOW}`;
      const r = this.stmt(`SELECT count(*) AS rows, ${range.ascending ? 'max' : 'min'}(id) AS edge FROM (${window})`).get(...params) as { rows: number; edge: number | null };
      // How far (in ids) the window reaches from the walk's start: farther means sparser.
      const reach = r.rows < DENSITY_WINDOW ? Infinity : range.ascending ? r.edge! : -r.edge!;
      if (!best || r.rows < best.rows || (r.rows === best.rows && reach > best.reach)) best = { term, rows: r.rows, reach };
    }
    return best!.term;
  }

  /** Per-step open-error count and newest open error, for the flow summary. */
  stepErrorStats(step: number): StepErrorStats {
    const count = this.stmt('SELECT count(*) AS n FROM errors WHERE step = ? AND resolved = 0').get(step) as { n: number };
    const last = this.stmt('SELECT id, occurred_at FROM errors WHERE step = ? AND resolved = 0 ORDER BY id DESC LIMIT 1').get(step) as
      | { id: number; occurred_at: number }
      | undefined;
    return { step, open: count.n, lastErrorId: last?.id ?? null, lastErrorAt: last?.occurred_at ?? null };
  }

  /** Open errors of a step counted by one column (each has its own index, so this reads only it). */
  stepErrorFacets(step: number, field: 'classification' | 'code' | 'source'): Array<{ value: string; count: number }> {
    const column = { classification: 'classification', code: 'code', source: 'source' }[field];
    return this.stmt(
      `SELECT coalesce(${column}, 'none') AS value, count(*) AS count FROM errors WHERE step = ? AND resolved = 0 GROUP BY ${column} ORDER BY count DESC`,
    ).all(step) as Array<{ value: string; count: number }>;
  }

  // ---- users and tags -----------------------------------------------------------------------

  tagCatalog(): Array<{ code: string; name: string }> {
    return this.stmt('SELECT code, name FROM tags ORDER BY name').all() as Array<{ code: string; name: string }>;
  }

  insertTag(code: string, name: string, at: number): void {
    this.stmt('INSERT INTO tags (code, name, created_at) VALUES (?, ?, ?)').run(code, name, at);
  }

  users(): Array<{ id: number; email: string; name: string | null; synthetic: boolean; createdAt: number }> {
    return (this.stmt('SELECT * FROM users ORDER BY email').all() as Raw[]).map((r) => ({
      id: r.id as number,
      email: r.email as string,
      name: (r.name as string | null) ?? null,
      synthetic: r.synthetic === 1,
      createdAt: r.created_at as number,
    }));
  }

  upsertUser(email: string, name: string | null, synthetic: boolean, at: number): number {
    const existing = this.stmt('SELECT id FROM users WHERE email = ?').get(email) as { id: number } | undefined;
    if (existing) {
      if (!synthetic) this.stmt('UPDATE users SET name = coalesce(?, name), synthetic = 0 WHERE id = ?').run(name, existing.id);
      return existing.id;
    }
    return Number(this.stmt('INSERT INTO users (email, name, synthetic, created_at) VALUES (?, ?, ?, ?)').run(email, name, synthetic ? 1 : 0, at).lastInsertRowid);
  }

  // ---- audit --------------------------------------------------------------------------------

  audit(entry: AuditEntry): void {
    this.stmt(`INSERT INTO audit (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`).run(...auditValues(entry));
  }

  requireStep(key: number): StepRow {
    const s = this.step(key);
    if (!s) throw new NotFoundError('step', String(key));
    return s;
  }
}
