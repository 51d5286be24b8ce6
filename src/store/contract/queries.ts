import type { QueryTerm } from '../../domain/query.js';
import type { LogEntryRow } from './rows.js';

// What the store's ports take and give besides rows: queries, filters, cursors and the small
// results of bulk writes. Plain data, the same for every store implementation.

export interface ErrorListQuery {
  step: number;
  resolved: boolean;
  terms: readonly QueryTerm[];
  limit: number;
  /** Keyset cursor: only rows older than this error row id (newest-first paging). */
  beforeId?: number | undefined;
  /** Ascending order from this row id on (CSV startAtErrorId); overrides newest-first. */
  fromId?: number | undefined;
}

/** Row ids a walk covers: [lower, upper), newest first unless ascending. */
export interface IdRange {
  lower?: number;
  upper?: number;
  ascending: boolean;
}

export interface QueryContext {
  /** Tag codes whose code or name matches the value (wildcards allowed); empty when none does. */
  tagCodes(value: string): string[];
  /** The operator's email, for `assignee:me`. */
  me: string;
  now: number;
}

export interface GroupQuery {
  step: number;
  resolved: boolean;
  terms: readonly QueryTerm[];
}

export interface GroupCount {
  /** null: errors not signed (none once the back-fill is done). */
  sig: number | null;
  count: number;
  /** Oldest and newest error row ids of the group in the set counted (see GroupsRepo.edges). */
  firstId?: number;
  lastId?: number;
}

export interface GroupDetail {
  sig: number;
  step: number;
  code: string;
  source: string;
  classification: string | null;
  template: string;
  /** When the signature's first error was recorded (any state, any filter). */
  firstRecordedAt: number;
  firstAt: number;
  lastAt: number;
  sampleMessage: string;
}

export interface RetryItem {
  seq: number;
  retryData: number;
  attempts: number;
  nextAt: number;
}

export interface LatestError {
  id: number;
  tags: string | null;
  assignee: string | null;
  assignedBy: string | null;
  assigneeUser: number | null;
  traceKey: string | null;
  oIndex: string | null;
}

/** A changed error: enough to build its errorId and say which list it is on. */
export interface TouchedError {
  id: number;
  occurredAt: number;
  resolved: boolean;
}

export interface TagRow {
  code: string;
  name: string;
  createdAt: number;
}

export interface TagChange {
  /** Full replace with these codes (empty: clear). Exclusive with add/remove. */
  set?: readonly string[];
  add?: readonly string[];
  remove?: readonly string[];
}

export interface TokenRow {
  id: number;
  userEmail: string;
  name: string;
  last4: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** A token found by its hash, with the hash to compare in constant time. */
export interface TokenMatch extends TokenRow {
  hash: string;
}

export interface NewToken {
  userEmail: string;
  name: string;
  hash: string;
  last4: string;
  createdAt: number;
}

export interface RetryDataReplacement {
  data: string;
  oneToMany: boolean;
  pathToMany: string | null;
  childIndex: number | null;
  traceKey: string | null;
  adaptorResponse: string | null;
}

export interface ErrorSnapshotRef {
  error: number;
  occurredAt: number;
  retryData: number | null;
}

export interface TraceFilter {
  timeLte?: number | undefined;
  timeGt?: number | undefined;
  statusCode?: number | undefined;
  method?: string | undefined;
  stage?: string | undefined;
  /** Keyset cursor: only traces strictly older than (time, id), newest first. */
  before?: { time: number; id: number } | undefined;
}

export interface TraceSummaryRow {
  id: number;
  time: number;
  method: string;
  statusCode: number | null;
  stage: string;
}

export interface LogEntryFilter {
  status?: LogEntryRow['status'] | undefined;
  steps?: readonly number[] | undefined;
  traceKeyPrefix?: string | undefined;
  /** Walk direction over (started_at, id). */
  order: 'asc' | 'desc';
  /** Keyset cursor: only entries strictly after this one in `order`. */
  after?: { startedAt: number; id: number } | undefined;
  limit: number;
}

/** Which column a CSV export walks and how rows are picked. */
export interface CsvChunkQuery {
  step: number;
  resolved: boolean;
  terms: readonly QueryTerm[];
  /** The `_expOrImpId` column value for whole-flow exports; undefined leaves the column out. */
  stepColumn?: string | undefined;
}
