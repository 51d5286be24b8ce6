import type { JobStatus, JobType } from '../../domain/api.js';
import type { RetryItemCounts } from '../../backend/contract/retry.js';
import type { Catalog } from '../../flows/load.js';
import type {
  CsvChunkQuery,
  ErrorListQuery,
  ErrorSnapshotRef,
  GroupCount,
  GroupDetail,
  GroupQuery,
  LatestError,
  LogEntryFilter,
  NewToken,
  QueryContext,
  RetryDataReplacement,
  RetryItem,
  TagChange,
  TagRow,
  TokenMatch,
  TokenRow,
  TouchedError,
  TraceFilter,
  TraceSummaryRow,
} from './queries.js';
import type {
  ErrorKey,
  ErrorRow,
  FlowRow,
  JobCounters,
  JobRow,
  LogEntryRow,
  NewError,
  NewLogEntry,
  NewRetryData,
  NewTrace,
  RetryDataRow,
  StepErrorStats,
  StepRow,
  TraceRow,
} from './rows.js';
import type { SyntheticBatch } from './bulk.js';

// The store's ports, one per concern. Every method is async and takes and gives plain data: no
// connection, statement or transaction type crosses this line, so services and the runtime run the
// same on SQLite (embedded) and PostgreSQL (a team's server). Units of work go through
// Store.withTransaction; the ports of the `tx` it hands over run inside that transaction.

/** Small keyed values of the workspace (the catalog digest, migrations' marks, leases). */
export interface MetaPort {
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  /** Replaces a JSON meta value only while its `field` still holds `expected` (compare and set); whether it did. */
  setMetaIf(key: string, field: string, expected: number | string, value: string): Promise<boolean>;
  deleteMeta(key: string): Promise<void>;
}

/** The flow files' definitions as the store mirrors them, and the steps' integer keys. */
export interface CatalogPort {
  /** Mirrors the flow files into the store; flows gone from the files are kept, marked removed. */
  syncCatalog(catalog: Catalog, maskDefinition: (def: unknown) => unknown): Promise<void>;
  listFlows(): Promise<FlowRow[]>;
  getFlow(id: string): Promise<FlowRow | undefined>;
  setFlowDisabled(id: string, disabled: boolean): Promise<void>;
  touchFlow(id: string, at: number): Promise<void>;
  steps(flowId: string): Promise<StepRow[]>;
  step(key: number): Promise<StepRow | undefined>;
  /** The step, or a NotFoundError. */
  requireStep(key: number): Promise<StepRow>;
}

export interface NewJob {
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
}

export type JobPatch = Partial<Pick<JobRow, 'status' | 'startedAt' | 'endedAt' | 'canceledBy' | 'doneExporting' | 'ownerPid' | 'heartbeatAt' | 'note' | 'logMode' | 'options'>>;

export interface JobFilter {
  flowId?: string | undefined;
  type?: JobType | undefined;
  status?: JobStatus | undefined;
  triggeredBy?: string | undefined;
  /** Keyset paging, newest first: only jobs older than this row id. */
  beforeId?: number | undefined;
  topLevel?: boolean;
  limit: number;
}

/** Flow runs and retry jobs: their rows, statuses and counters. */
export interface JobsPort {
  insertJob(job: NewJob): Promise<number>;
  updateJob(id: number, patch: JobPatch, at: number): Promise<void>;
  /** Moves a job from one of `from` to `to`; a job in any other state (canceling!) is left alone. Whether it moved. */
  setJobStatusIf(id: number, from: readonly JobStatus[], to: JobStatus, at: number): Promise<boolean>;
  addJobCounters(id: number, counters: JobCounters, at: number): Promise<void>;
  getJob(id: number): Promise<JobRow | undefined>;
  listJobs(filter: JobFilter): Promise<JobRow[]>;
  childJobs(parentId: number): Promise<JobRow[]>;
  /** queued, running, retrying and canceling jobs, oldest first. */
  activeJobs(): Promise<JobRow[]>;
  /** Open and resolved error counts of a job (optionally one step of it), derived, never stored. */
  jobErrorCounts(job: number, step?: number): Promise<{ open: number; resolved: number }>;
}

export type ItemState = 'resolved' | 'failed' | 'skipped' | 'resolved_meanwhile';

/**
 * The records of durable retry jobs (retry_items) and what retrying reads and writes of errors.
 * Items are claimed before they are sent: a claim is a lease (owner, until) that the owner renews
 * while it works and that settling or postponing ends. An expired lease makes the item claimable
 * again, so a worker that dies mid-way (any host) loses its records to the next claimant and no
 * record is ever out with two workers at once.
 */
export interface RetryItemsPort {
  /** Snapshot ids of errors (by row id), deduplicated. */
  retryDataOf(errorRowIds: readonly number[]): Promise<number[]>;
  openErrorSnapshots(rowIds: readonly number[]): Promise<Array<{ id: number; occurredAt: number; retryData: number; retryDataSeconds: number }>>;
  /** Snapshots pending in another active job. */
  pendingElsewhere(retryData: readonly number[]): Promise<Set<number>>;
  /** Active jobs holding any of the snapshots as pending items. */
  holdersOf(retryData: readonly number[]): Promise<number[]>;
  insertItems(job: number, retryData: readonly number[]): Promise<void>;
  /**
   * Claims up to `limit` pending items of the job due at `now` whose lease is free or expired,
   * in (next_at, seq) order after `after`, for `owner` until `leaseUntil`. Two concurrent claims
   * never get the same item (PostgreSQL: FOR UPDATE SKIP LOCKED).
   */
  claimDueItems(job: number, owner: string, now: number, limit: number, leaseUntil: number, after?: { nextAt: number; seq: number }): Promise<RetryItem[]>;
  /** Extends the leases `owner` holds on the job's items; how many it still holds. */
  renewItemLeases(job: number, owner: string, leaseUntil: number): Promise<number>;
  /** Gives back the owner's unsettled items (a stop, a cancel): pending again, for anyone. */
  releaseItemLeases(job: number, owner: string): Promise<void>;
  /** Pending items of the job whose lease is live at `now` (held by some runner): a job ends only when none is. */
  liveLeases(job: number, now: number): Promise<number>;
  pendingCount(job: number): Promise<number>;
  /** The earliest next_at of the job's pending items (leased ones included); undefined when none is pending. */
  nextDueAt(job: number): Promise<number | undefined>;
  counts(job: number): Promise<RetryItemCounts>;
  items(job: number): Promise<Array<{ seq: number; retryData: number; state: string; attempts: number; resultError: number | null; detail: string | null }>>;
  /** Postpones an item after a transient failure (back-off); its lease ends. */
  postpone(job: number, seq: number, attempts: number, nextAt: number, detail: string): Promise<void>;
  settle(job: number, seq: number, state: ItemState, attempts: number, resultError: number | null, detail: string | null): Promise<void>;
  settleResolved(job: number, seqs: readonly number[]): Promise<void>;
  /** Settles every pending item of the job as skipped; how many. */
  skipPending(job: number, detail: string): Promise<number>;
  endedJobsWithPendingItems(): Promise<Array<{ id: number; status: string; note: string | null }>>;
  /** The newest open error of each snapshot: what a failed retry carries its tags and assignee from. */
  latestOpenErrors(retryData: readonly number[]): Promise<Map<number, LatestError>>;
  /** Snapshots of a batch that still have an open error (one resolved meanwhile is not re-sent). */
  snapshots(ids: readonly number[]): Promise<Map<number, { data: string; attempts: number; traceKey: string | null }>>;
  /** Resolves the open errors of the snapshots; which snapshots still had one. */
  resolveManyByRetryData(ids: readonly number[], by: string, at: number): Promise<Set<number>>;
  /** autoResolveMatchingTraceKeys: older open errors of the flow with this traceKey are resolved by `auto`. */
  resolveMatchingTraceKey(flowId: string, traceKey: string, olderThanId: number, at: number): Promise<number>;
  setAttempts(retryData: number, attempts: number): Promise<void>;
  /** Open errors due for an automatic retry (limit 0: all), except on the given steps. */
  dueAutomaticRetries(now: number, limit: number, exceptSteps?: readonly number[]): Promise<Array<{ step: number; errorId: number; retryData: number | null }>>;
  countDue(now: number): Promise<number>;
  clearRetryAt(errorIds: readonly number[]): Promise<void>;
}

/** Errors: recording, reading, listing with the query language, and per-step figures. */
export interface ErrorsPort {
  insertError(e: NewError): Promise<number>;
  getError(id: number): Promise<ErrorRow | undefined>;
  /** The keys of many errors (checking explicit ids of a bulk action). */
  errorKeys(rowIds: readonly number[]): Promise<ErrorKey[]>;
  listErrors(q: ErrorListQuery, ctx: QueryContext): Promise<ErrorRow[]>;
  /** Row ids of every error matching the query, newest first (bulk actions select with this). */
  selectErrorIds(q: Omit<ErrorListQuery, 'limit'> & { limit?: number }, ctx: QueryContext): Promise<number[]>;
  countErrors(q: Omit<ErrorListQuery, 'limit'>, ctx: QueryContext): Promise<number>;
  /** The query plan of a listing as the engine prints it, for tests that prove no listing scans the errors table. */
  explainListErrors(q: ErrorListQuery, ctx: QueryContext): Promise<string[]>;
  stepErrorStats(step: number): Promise<StepErrorStats>;
  stepErrorFacets(step: number, field: 'classification' | 'code' | 'source'): Promise<Array<{ value: string; count: number }>>;
}

/** Errors counted per signature (error groups). */
export interface GroupsPort {
  countGroups(q: GroupQuery, ctx: QueryContext): Promise<GroupCount[]>;
  /** Oldest and newest row ids of one group in the set counted. */
  edges(step: number, resolved: boolean, g: GroupCount & { sig: number }): Promise<{ firstId: number; lastId: number } | undefined>;
  explainCountGroups(q: GroupQuery, ctx: QueryContext): Promise<string[]>;
  detail(group: { sig: number; firstId: number; lastId: number }): Promise<GroupDetail | undefined>;
}

/** The triage mutations (set-based, guarded on the state they expect), tags and users. */
export interface TriagePort {
  userByEmail(email: string): Promise<{ id: number; email: string; name: string | null } | undefined>;
  assign(rowIds: readonly number[], assignee: { email: string; userId: number }, assignedBy: string): Promise<TouchedError[]>;
  unassign(rowIds: readonly number[]): Promise<TouchedError[]>;
  resolve(rowIds: readonly number[], at: number, by: string): Promise<TouchedError[]>;
  superseded(rowIds: readonly number[]): Promise<TouchedError[]>;
  reopen(rowIds: readonly number[]): Promise<TouchedError[]>;
  deleteResolved(rowIds: readonly number[]): Promise<TouchedError[]>;
  setTags(rowIds: readonly number[], change: TagChange): Promise<TouchedError[]>;
  tags(): Promise<Array<TagRow & { open: number; resolved: number }>>;
  findTag(ref: string): Promise<TagRow | undefined>;
  tagByCode(code: string): Promise<TagRow | undefined>;
  tagByName(name: string): Promise<TagRow | undefined>;
  createTag(code: string, name: string, at: number): Promise<void>;
  deleteTag(code: string): Promise<number>;
  tagCatalog(): Promise<Array<{ code: string; name: string }>>;
  users(): Promise<Array<{ id: number; email: string; name: string | null; synthetic: boolean; createdAt: number }>>;
  upsertUser(email: string, name: string | null, synthetic: boolean, at: number): Promise<number>;
}

/** Retry data (snapshots), request traces, execution logs and the CSV export's reads. */
export interface RecordsPort {
  insertRetryData(r: NewRetryData): Promise<number>;
  getRetryData(id: number): Promise<RetryDataRow | undefined>;
  replaceRetryData(id: number, v: RetryDataReplacement, at: number): Promise<void>;
  updateRetryDataJson(id: number, data: string, at: number): Promise<void>;
  snapshotsOfErrors(errorIds: readonly number[]): Promise<ErrorSnapshotRef[]>;
  insertTrace(t: NewTrace): Promise<number>;
  getTrace(id: number): Promise<TraceRow | undefined>;
  listTraces(step: number, f: TraceFilter, limit: number): Promise<TraceSummaryRow[]>;
  deleteTraces(step: number, ids: readonly number[]): Promise<void>;
  jobIdsByTraceKeyPrefix(flowId: string, prefix: string, limit: number): Promise<number[]>;
  insertLogEntry(entry: NewLogEntry): Promise<number>;
  listLogEntries(job: number, f: LogEntryFilter): Promise<LogEntryRow[]>;
  getLogEntry(id: number): Promise<LogEntryRow | undefined>;
  findLogEntries(job: number, steps: readonly number[], recordId: string): Promise<LogEntryRow[]>;
  logEntriesByTraceKey(job: number, traceKey: string): Promise<LogEntryRow[]>;
  logData(entry: number, stage: string): Promise<string[]>;
  logDataStages(entry: number): Promise<string[]>;
  logChildren(job: number, step: number, parentRecordId: string, status: LogEntryRow['status'] | undefined, offset: number, limit: number): Promise<LogEntryRow[]>;
  /**
   * A CSV export's rows of one step, ascending by error row id from `fromId`, `chunk` at a time:
   * raw arrays in CSV_SLOTS order (preceded by resolvedAt, resolvedBy for resolved exports and by
   * the step id for whole-flow exports). Reads as it goes (a cursor), never the whole set at once.
   */
  csvRows(q: CsvChunkQuery, ctx: QueryContext, fromId: number, chunk: number): AsyncIterable<unknown[][]>;
  /** User row id → created_at, for _assignedToUserId. */
  usersCreatedAt(): Promise<Map<number, number>>;
  /** Tag code → name, for the CSV's tags column. */
  tagNames(): Promise<Map<string, string>>;
}

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  flowId?: string;
  stepId?: string;
  count: number;
  detail?: unknown;
}

export interface AuditPort {
  audit(entry: AuditEntry): Promise<void>;
}

/** API tokens: rows carry the token's hash, never the token; only byHash takes one. */
export interface TokensPort {
  insert(token: NewToken): Promise<TokenRow>;
  list(): Promise<TokenRow[]>;
  byId(id: number): Promise<TokenRow | undefined>;
  byHash(hash: string): Promise<TokenMatch | undefined>;
  activeByName(name: string): Promise<TokenRow[]>;
  activeByLast4(last4: string): Promise<TokenRow[]>;
  activeNamed(userEmail: string, name: string): Promise<TokenRow | undefined>;
  revoke(id: number, at: number): Promise<TokenRow | undefined>;
  /** Writes last_used_at only when older than staleBefore, and never waits for a lock; whether it wrote. */
  tryTouch(id: number, at: number, staleBefore: number): Promise<boolean>;
}

/** A worker process, wherever it runs. */
export interface WorkerIdentity {
  /** Unique per process: `${host}:${pid}:${random}`. */
  id: string;
  host: string;
  pid: number;
}

/**
 * Who runs queued work. On SQLite one worker per workspace holds an exclusive lease; on PostgreSQL
 * any number register (`sharedWorkers`), each with a heartbeat, and share jobs through item leases.
 */
export interface WorkersPort {
  /** Registers the worker; false when the store allows one worker and another one's lease is live. */
  acquire(worker: WorkerIdentity, now: number, staleMs: number): Promise<boolean>;
  /** Renews the worker's heartbeat; false when it no longer holds its place (another took over). */
  renew(worker: WorkerIdentity, now: number): Promise<boolean>;
  release(worker: WorkerIdentity): Promise<void>;
  /** Whether some worker's heartbeat is fresher than staleMs (on this host's pids checked alive where it can tell). */
  anyAlive(now: number, staleMs: number): Promise<boolean>;
}

/** Fast loads of synthetic rows (the demo's generator), and starting a demo store over. */
export interface BulkPort {
  /** Deletes every row, keeping the schema (a demo starting over in a store on a server: no file to remove). */
  emptyStore(): Promise<void>;
  /** Where appended synthetic rows start: the next free ids, the newest error's time, how many errors there are. */
  loadStart(): Promise<{ nextIds: { error: number; retryData: number; trace: number }; lastOccurredAt: number | null; errorCount: number }>;
  /**
   * Writes the batches (ids assigned by the caller, parents before children) with everything the
   * store derives from an error (text index, tag mirror, signature rows), in transactions of about
   * 50k errors; may drop and rebuild secondary indexes around a big load into a small store.
   */
  loadSynthetic(
    batches: AsyncIterator<SyntheticBatch>,
    options: { expected: number; onBatch?: (batch: SyntheticBatch) => void; onProgress?: (done: number) => void; onPhase?: (phase: 'indexes' | 'analyze') => void },
  ): Promise<{ rows: number; write: number; indexes: number; analyze: number }>;
}

/** Every port: what a transaction's `tx` offers, and what the store offers outside one. */
export interface StorePorts {
  readonly meta: MetaPort;
  readonly catalog: CatalogPort;
  readonly jobs: JobsPort;
  readonly retries: RetryItemsPort;
  readonly errors: ErrorsPort;
  readonly groups: GroupsPort;
  readonly triage: TriagePort;
  readonly records: RecordsPort;
  readonly auditLog: AuditPort;
  readonly tokens: TokensPort;
  readonly workers: WorkersPort;
  readonly bulk: BulkPort;
}
