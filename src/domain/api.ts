// The Flows error-management API's request/response shapes (seed 002, components.schemas).
// Field names and optionality follow the spec exactly: these are what `--json` prints and what a
// future HTTP face serves, so nothing here may carry a flowdeck-only field.

export interface FlowStepError {
  errorId: string;
  occurredAt: string;
  source: string;
  code: string;
  message: string;
  oIndex?: string;
  _flowJobId?: string;
  traceKey?: string;
  classification?: string;
  classifiedBy?: string;
  reqAndResKey?: string;
  retryDataKey?: string;
  purgeAt?: string;
  retryAt?: string;
  tags?: string[] | null;
  assignedTo?: string;
  assignedBy?: string;
  _assignedToUserId?: string;
}

export interface ResolvedFlowStepError extends FlowStepError {
  resolvedAt?: string;
  resolvedBy?: string;
}

export interface FlowErrorsResponse {
  flowErrors: Array<{ _expOrImpId: string; numError: number; lastErrorAt?: string }>;
}

export interface FlowStepErrorsResponse {
  errors: FlowStepError[];
  nextPageURL?: string;
}

export interface FlowStepResolvedResponse {
  resolved: ResolvedFlowStepError[];
  nextPageURL?: string;
}

export interface FlowStepAffectedErrorsResponse {
  errorsToReturn: string[];
}

export interface FlowStepErrorsUnassignResponse {
  errorsToReturn: string[];
}

export interface FlowStepTagsResponse {
  errorsToReturn: { errors: string[]; resolved: string[] };
}

export interface FlowStepRetryData {
  retryDataKey: string;
  data: unknown;
  stage: string;
  pgExportId?: string;
  oneToMany: boolean;
  pathToMany?: string | null;
  childIndex?: number | null;
  traceKey?: string | null;
  adaptorResponse?: Record<string, unknown>;
}

export interface FlowStepRequestResponse {
  request: { method?: string; url?: string; headers?: Record<string, string>; body?: string };
  response: { statusCode?: number; headers?: Record<string, string>; body?: string; receivedAt?: number };
  key: string;
  id?: string;
  time?: number;
}

export interface FlowStepRequestsListResponse {
  requests: Array<{ key: string; time: number; method: string; statusCode: string; stage: string }>;
  nextPageURL: string | null;
}

export interface FlowStepRequestsDeleteResponse {
  deleted: string[];
  errors: Array<Record<string, unknown>>;
}

export const JOB_TYPES = ['export', 'import', 'flow', 'retry', 'bulk_retry'] as const;
export type JobType = (typeof JOB_TYPES)[number];
export const JOB_STATUSES = ['queued', 'running', 'retrying', 'completed', 'failed', 'canceled', 'canceling'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'canceled'];

export interface Job {
  _id: string;
  type: JobType;
  status: JobStatus;
  _flowId?: string;
  _exportId?: string;
  _importId?: string;
  _expOrImpId?: string;
  _retryOfJobId?: string;
  _flowJobId?: string;
  _parentJobId?: string;
  startedAt?: string;
  endedAt?: string;
  createdAt?: string;
  lastModified?: string;
  triggeredBy?: string;
  canceledBy?: string;
  numError?: number;
  numOpenError?: number;
  numResolved?: number;
  numSuccess?: number;
  numIgnore?: number;
  numExport?: number;
  numPagesGenerated?: number;
  doneExporting?: boolean;
  numPagesProcessed?: number;
  retriable?: boolean;
  logMode?: string;
}

/** What moves while a job runs (status and counters): two answers with the same key saw no progress. */
export function jobProgressKey(job: Job): string {
  return `${job.status}|${job.numSuccess ?? 0}|${job.numError ?? 0}|${job.numIgnore ?? 0}|${job.numResolved ?? 0}|${job.numPagesGenerated ?? 0}`;
}

export interface FlowJobsSearchResponse {
  runs: Array<{
    _id: string;
    _flowId?: string;
    type?: string;
    status?: string;
    startedAt?: string;
    endedAt?: string;
    numSuccess?: number;
    numError?: number;
    numIgnore?: number;
  }>;
}

export type LogStatus = 'success' | 'error' | 'ignored';

export interface ExecutionLogEntry {
  startedAt?: string;
  recordId: string;
  groupId: string;
  traceKey?: string;
  _expOrImpId: string;
  status: LogStatus;
  timeTaken?: number;
}

export interface ExecutionLogsResponse {
  logs: ExecutionLogEntry[];
  nextPageUrl?: string | null;
  prevPageUrl?: string | null;
}

export interface ExecutionLogStep {
  _expOrImpId: string;
  recordId: string;
  groupId: string;
  status: LogStatus;
  timeTaken?: number;
  startedAt?: string;
  completedAt?: string;
  stage?: string;
}

export interface ExecutionLogMetadataResponse {
  traceKey?: string;
  duplicateTraceKey: boolean;
  traceView: boolean;
  steps: ExecutionLogStep[];
}

export const LOG_DATA_STAGES = ['apiCall', 'preMap', 'postMap', 'postSubmit', 'postResponseMap', 'transform', 'responseTransform'] as const;

/** Stages a log-data query accepts: the runtime's (apiCall, mapping) and the API's enum. */
export const LOG_QUERY_STAGES: readonly string[] = [...new Set<string>([...LOG_DATA_STAGES, 'mapping'])];

export interface ExecutionLogDataResponse {
  logs: Array<{ log: Record<string, unknown> }>;
  errors?: Array<Record<string, unknown>>;
}

export interface FlowJobLogChildrenResponse {
  children: Array<Omit<ExecutionLogEntry, 'status'> & { status: 'success' | 'error' | 'ignore' }>;
  nextPageUrl?: string | null;
  prevPageUrl?: string | null;
}

export interface ErrorsFilterMetadataResponse {
  filters: Array<{ name: string; enums: string[] }>;
}

/** The API's error envelope. */
export interface ApiErrorBody {
  errors: Array<{ code?: string | number; message: string; field?: string; source?: string }>;
}
