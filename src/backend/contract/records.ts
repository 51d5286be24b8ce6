import type {
  ExecutionLogDataResponse,
  ExecutionLogEntry,
  ExecutionLogMetadataResponse,
  ExecutionLogsResponse,
  FlowJobLogChildrenResponse,
  FlowJobsSearchResponse,
  FlowStepRequestResponse,
  FlowStepRequestsDeleteResponse,
  FlowStepRequestsListResponse,
  FlowStepRetryData,
} from '../../domain/api.js';
import type { PatchOp } from '../../domain/json-patch.js';
import type { ErrorSelection } from './errors.js';
import type { FlowInfo } from './flows.js';

// Retry data, request traces, execution logs, trace-key job search, enable/disable and the CSV
// export. A CSV export is a download: text chunks the client writes to its file, header first.

export interface PutRetryDataOptions {
  /** Validate and return the would-be envelope; change nothing. */
  dryRun?: boolean;
}

export interface RetryDataPatchChange {
  retryDataKey: string;
  /** The open errors (on the step) that share this snapshot. */
  errorIds: string[];
  before: FlowStepRetryData;
  after: FlowStepRetryData;
}

export interface RetryDataPatchResult {
  dryRun: boolean;
  /** Open errors the selection matched. */
  selected: number;
  /** Snapshots the patch changes (dry run) or changed. */
  changed: RetryDataPatchChange[];
  /** Snapshots the patch leaves as they were. */
  unchanged: string[];
  /** Snapshots left alone because a `test` operation did not hold. */
  testFailed: string[];
  /** Selected errors without a snapshot (connection-class): nothing to patch. */
  skippedNoRetryData: number;
}

export interface RequestListParams {
  /** Upper bound of trace time, inclusive (epoch ms). */
  timeLte?: number;
  /** Lower bound of trace time, exclusive (epoch ms). */
  timeGt?: number;
  /** HTTP status code, as the API passes it (a string of three digits). */
  statusCode?: string;
  method?: string;
  /** Pipeline stage the trace was captured at: export, lookup or import. */
  stage?: string;
  pageSize?: number;
  /** Keyset cursor (a reqAndResKey) that nextPageURL carries with time_lte. */
  before?: string;
}

export interface DeleteRequestsOptions {
  /** Report what would be deleted and which keys are unknown; delete nothing. */
  dryRun?: boolean;
}

export interface JobSearchParams {
  pageSize?: number;
}

export type LogStatusFilter = 'success' | 'error' | 'ignore' | 'ignored';

export interface LogListParams {
  status?: LogStatusFilter;
  /** Steps (ids or names) whose entries to list; all steps when absent. */
  stepRefs?: string[];
  traceKeyPrefix?: string;
  sortOrder?: 'asc' | 'desc';
  pageSize?: number;
  /** Cursors as nextPageUrl / prevPageUrl carry them. */
  next?: string;
  prev?: string;
}

export interface LogMetadataQuery {
  _expOrImpId: string;
  groupId: string;
  recordId: string;
  traceKey?: string;
}

export interface LogDataQuery {
  _expOrImpId: string;
  stage: string;
  groupId: string;
  recordId: string;
}

export interface LogChildrenParams {
  status?: LogStatusFilter;
  pageSize?: number;
  offset?: number;
}

export interface RecordsApi {
  getRetryData(flowRef: string, stepRef: string, key: string): Promise<FlowStepRetryData>;
  putRetryData(flowRef: string, stepRef: string, key: string, envelope: unknown, options?: PutRetryDataOptions): Promise<FlowStepRetryData>;
  patchRetryData(flowRef: string, stepRef: string, selection: ErrorSelection, ops: readonly PatchOp[], options?: { dryRun?: boolean }): Promise<RetryDataPatchResult>;

  listRequests(flowRef: string, stepRef: string, params?: RequestListParams): Promise<FlowStepRequestsListResponse>;
  getRequest(flowRef: string, stepRef: string, key: string): Promise<FlowStepRequestResponse>;
  deleteRequests(flowRef: string, stepRef: string, keys: readonly string[], options?: DeleteRequestsOptions): Promise<FlowStepRequestsDeleteResponse>;

  searchJobs(flowRef: string, traceKeyPrefix: string, params?: JobSearchParams): Promise<FlowJobsSearchResponse>;
  setFlowDisabled(flowRef: string, disabled: boolean): Promise<FlowInfo>;

  listLogs(flowRef: string, jobId: string, params?: LogListParams): Promise<ExecutionLogsResponse>;
  /** The entry of a job with this record id (on `stepRef` when given, or the only step that has it). */
  findLogEntry(flowRef: string, jobId: string, recordId: string, stepRef?: string): Promise<ExecutionLogEntry>;
  logMetadata(flowRef: string, jobId: string, query: LogMetadataQuery): Promise<ExecutionLogMetadataResponse>;
  logData(flowRef: string, jobId: string, query: LogDataQuery): Promise<ExecutionLogDataResponse>;
  logChildren(flowRef: string, jobId: string, stepRef: string, recordId: string, params?: LogChildrenParams): Promise<FlowJobLogChildrenResponse>;

  /**
   * The errors of a step (or, without stepRef, every step's of the flow) as CSV. Everything that
   * can reject the request is checked before the promise resolves; the download then yields the
   * header and the records in chunks of whole records, and ends.
   */
  exportErrors(flowRef: string, stepRef: string | undefined, options: CsvExportOptions): Promise<TextDownload>;
}

export interface CsvExportOptions {
  /** Resolved errors (resolvedAt, resolvedBy first) instead of open ones. */
  resolved?: boolean;
  /** Resume: errors whose ids sort before this errorId are left out. */
  startAtErrorId?: string;
  /** Query-language filter, as on listings. */
  query?: string;
}

/** A download as text chunks, the way a fetch body is read: no stream of any one runtime. */
export type TextDownload = AsyncIterable<string>;
