import type {
  AuditPort,
  BulkPort,
  CatalogPort,
  ErrorsPort,
  GroupsPort,
  JobsPort,
  MetaPort,
  RecordsPort,
  RetryItemsPort,
  StorePorts,
  TokensPort,
  TriagePort,
  WorkersPort,
} from '../contract/ports.js';
import type { Store, StoreTx, TransactionOptions } from '../contract/store.js';
import type { CsvChunkQuery, QueryContext } from '../contract/queries.js';
import { CSV_SLOTS } from './records-repo.js';
import { asyncPort, TransactionGate, type SyncOf } from './async-port.js';
import { SqliteBulk } from './bulk.js';
import { SqliteCore } from './core.js';
import { GroupsRepo } from './groups-repo.js';
import { RecordsRepo } from './records-repo.js';
import { RetryRepo } from './retry-repo.js';
import { TokensRepo } from './tokens-repo.js';
import { TriageRepo } from './triage-repo.js';
import { SqliteWorkers } from './workers.js';

// The embedded store: the contract's ports over one better-sqlite3 connection. Statements run
// synchronously (a prepared statement is microseconds; a promise per call is the only cost the
// contract adds); a transaction is BEGIN IMMEDIATE … COMMIT around awaited work, and while one is
// open, calls from outside it wait (TransactionGate).

/** Binds the named methods of `from` into one object (a port gathered from several classes). */
function methods<T extends object, K extends keyof T & string>(from: T, names: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const name of names) out[name] = (from[name] as (...a: unknown[]) => unknown).bind(from) as T[K];
  return out;
}

const META = ['getMeta', 'setMeta', 'setMetaIf', 'deleteMeta'] as const;
const CATALOG = ['syncCatalog', 'listFlows', 'getFlow', 'setFlowDisabled', 'touchFlow', 'steps', 'step', 'requireStep'] as const;
const JOBS = ['insertJob', 'updateJob', 'setJobStatusIf', 'addJobCounters', 'getJob', 'listJobs', 'childJobs', 'activeJobs', 'jobErrorCounts'] as const;
const ERRORS = ['insertError', 'getError', 'errorKeys', 'listErrors', 'selectErrorIds', 'countErrors', 'explainListErrors', 'stepErrorStats', 'stepErrorFacets'] as const;
const RETRIES = [
  'retryDataOf', 'openErrorSnapshots', 'pendingElsewhere', 'holdersOf', 'insertItems', 'claimDueItems', 'renewItemLeases', 'releaseItemLeases', 'liveLeases',
  'pendingCount', 'nextDueAt', 'counts', 'items', 'postpone', 'settle', 'settleResolved', 'skipPending', 'endedJobsWithPendingItems',
  'latestOpenErrors', 'snapshots', 'resolveManyByRetryData', 'resolveMatchingTraceKey', 'setAttempts', 'dueAutomaticRetries', 'countDue', 'clearRetryAt',
] as const;
const GROUPS = ['countGroups', 'edges', 'explainCountGroups', 'detail'] as const;
const TRIAGE = ['userByEmail', 'assign', 'unassign', 'resolve', 'superseded', 'reopen', 'deleteResolved', 'setTags', 'tags', 'findTag', 'tagByCode', 'tagByName', 'createTag', 'deleteTag'] as const;
const USERS_AND_TAGS = ['tagCatalog', 'users', 'upsertUser'] as const;
const RECORDS = [
  'replaceRetryData', 'updateRetryDataJson', 'snapshotsOfErrors', 'listTraces', 'deleteTraces', 'jobIdsByTraceKeyPrefix', 'listLogEntries', 'getLogEntry',
  'findLogEntries', 'logEntriesByTraceKey', 'logData', 'logDataStages', 'logChildren', 'usersCreatedAt', 'tagNames',
] as const;
const RECORDS_OF_CORE = ['insertRetryData', 'getRetryData', 'insertTrace', 'getTrace', 'insertLogEntry'] as const;
const TOKENS = ['insert', 'list', 'byId', 'byHash', 'activeByName', 'activeByLast4', 'activeNamed', 'revoke', 'tryTouch'] as const;
const WORKERS = ['acquire', 'renew', 'release', 'anyAlive'] as const;
const BULK = ['emptyStore', 'loadStart', 'loadSynthetic'] as const;

/** The synchronous implementations behind the ports, one set per connection. */
interface SyncPorts {
  meta: SyncOf<MetaPort>;
  catalog: SyncOf<CatalogPort>;
  jobs: SyncOf<JobsPort>;
  retries: SyncOf<RetryItemsPort>;
  errors: SyncOf<ErrorsPort>;
  groups: SyncOf<GroupsPort>;
  triage: SyncOf<TriagePort>;
  records: SyncOf<Omit<RecordsPort, 'csvRows'>>;
  auditLog: SyncOf<AuditPort>;
  tokens: SyncOf<TokensPort>;
  workers: SyncOf<WorkersPort>;
  bulk: SyncOf<BulkPort>;
}

function syncPorts(core: SqliteCore): SyncPorts {
  const records = new RecordsRepo(core);
  const triage = new TriageRepo(core);
  return {
    meta: methods(core, META),
    catalog: methods(core, CATALOG),
    jobs: methods(core, JOBS),
    retries: methods(new RetryRepo(core), RETRIES),
    errors: methods(core, ERRORS),
    groups: methods(new GroupsRepo(core), GROUPS),
    triage: { ...methods(triage, TRIAGE), ...methods(core, USERS_AND_TAGS) },
    records: { ...methods(records, RECORDS), ...methods(core, RECORDS_OF_CORE) },
    auditLog: methods(core, ['audit'] as const),
    tokens: methods(new TokensRepo(core), TOKENS),
    workers: methods(new SqliteWorkers(core), WORKERS),
    bulk: methods(new SqliteBulk(core), BULK) as unknown as SyncOf<BulkPort>,
  };
}

function portsOver(sync: SyncPorts, gate: TransactionGate | undefined, csvRows: RecordsPort['csvRows']): StorePorts {
  return {
    meta: asyncPort<MetaPort>(sync.meta, gate, META),
    catalog: asyncPort<CatalogPort>(sync.catalog, gate, CATALOG),
    jobs: asyncPort<JobsPort>(sync.jobs, gate, JOBS),
    retries: asyncPort<RetryItemsPort>(sync.retries, gate, RETRIES),
    errors: asyncPort<ErrorsPort>(sync.errors, gate, ERRORS),
    groups: asyncPort<GroupsPort>(sync.groups, gate, GROUPS),
    triage: asyncPort<TriagePort>(sync.triage, gate, [...TRIAGE, ...USERS_AND_TAGS]),
    records: { ...asyncPort<Omit<RecordsPort, 'csvRows'>>(sync.records, gate, [...RECORDS, ...RECORDS_OF_CORE]), csvRows },
    auditLog: asyncPort<AuditPort>(sync.auditLog, gate, ['audit']),
    tokens: asyncPort<TokensPort>(sync.tokens, gate, TOKENS),
    workers: asyncPort<WorkersPort>(sync.workers, gate, WORKERS),
    bulk: { ...asyncPort<Pick<BulkPort, 'loadStart' | 'emptyStore'>>(sync.bulk, gate, ['loadStart', 'emptyStore']), loadSynthetic: (b, o) => {
        // A load is its own transactions (BEGIN … awaited batches … COMMIT, ~50k errors each): nothing else may write in between.
        const load = () => sync.bulk.loadSynthetic(b, o) as unknown as ReturnType<BulkPort['loadSynthetic']>;
        return gate ? gate.exclusive(load) : load();
      },
    },
  };
}

/** Where a CSV row carries its error's row id: after the lead columns (step id; resolvedAt, resolvedBy). */
export function csvIdSlot(q: CsvChunkQuery): number {
  return (q.stepColumn !== undefined ? 1 : 0) + (q.resolved ? 2 : 0) + CSV_SLOTS.errorRow;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly sharedWorkers = false;
  readonly location: string;
  /** The synchronous core (statements, migrations, planning): for the SQLite adapter's own modules and the SQLite-only checks. */
  readonly core: SqliteCore;
  private readonly gate = new TransactionGate();
  private readonly outside: StorePorts;
  private readonly inside: StoreTx;

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

  /** Indexes opening found missing and re-created (an earlier run was interrupted). */
  readonly repairedSchema: readonly string[];

  constructor(core: SqliteCore, location: string, repairedSchema: readonly string[] = []) {
    this.core = core;
    this.location = location;
    this.repairedSchema = repairedSchema;
    const sync = syncPorts(core);
    this.outside = portsOver(sync, this.gate, (q, ctx, fromId, chunk) => this.csvRows(q, ctx, fromId, chunk, true));
    const insidePorts = portsOver(sync, undefined, (q, ctx, fromId, chunk) => this.csvRows(q, ctx, fromId, chunk, false));
    this.inside = { ...insidePorts, withTransaction: (fn) => fn(this.inside) };
    ({
      meta: this.meta,
      catalog: this.catalog,
      jobs: this.jobs,
      retries: this.retries,
      errors: this.errors,
      groups: this.groups,
      triage: this.triage,
      records: this.records,
      auditLog: this.auditLog,
      tokens: this.tokens,
      workers: this.workers,
      bulk: this.bulk,
    } = this.outside);
  }

  get readonly(): boolean {
    return this.core.readonly;
  }

  withTransaction<T>(fn: (tx: StoreTx) => Promise<T>, _options?: TransactionOptions): Promise<T> {
    // BEGIN IMMEDIATE takes SQLite's write lock at once: it is the exclusive lock any named one asks for.
    return this.gate.exclusive(async () => {
      this.core.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.inside);
        this.core.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.core.db.inTransaction) this.core.db.exec('ROLLBACK');
        this.core.forgetKnownSignatures();
        throw e;
      }
    });
  }

  changeStamp(): Promise<string> {
    return this.gate.call(() => this.core.changeStamp());
  }

  async close(): Promise<void> {
    // A transaction still open (a caller that did not wait for it) ends before the connection does.
    await this.gate.call(() => undefined);
    this.core.close();
  }

  onClose(fn: () => void): void {
    this.core.onClose(fn);
  }

  /** Chunks of a CSV export; a small page cache while it reads (a million rows gain nothing from 64 MiB of cache in RSS). */
  private async *csvRows(q: CsvChunkQuery, ctx: QueryContext, fromId: number, chunk: number, gated: boolean): AsyncIterable<unknown[][]> {
    const repo = new RecordsRepo(this.core);
    const { statement, params } = repo.csvChunkStatement(q, ctx);
    const restore = repo.useSmallCache();
    try {
      let next = fromId;
      for (;;) {
        const read = () => statement.all(...params, next, chunk) as unknown[][];
        const rows = gated ? await this.gate.call(read) : read();
        if (rows.length === 0) return;
        // Read before the rows go out: the exporter rewrites them in place.
        const last = rows[rows.length - 1]![csvIdSlot(q)] as number;
        yield rows;
        if (rows.length < chunk) return;
        next = last + 1;
      }
    } finally {
      restore();
    }
  }
}
