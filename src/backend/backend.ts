import type {
  ErrorsFilterMetadataResponse,
  FlowErrorsResponse,
  FlowStepErrorsResponse,
  Job,
  JobStatus,
  JobType,
} from '../domain/api.js';
import type { StepKind } from '../flows/load.js';
import type { ErrorGroupParams, ErrorGroupsResponse } from './groups.js';
import type { RecordsApi } from './records.js';
import type { RetryApi } from './retry.js';
import type { TriageApi } from './triage.js';

// The one service interface of flowdeck: the commands, the TUI and (later) an HTTP server and a
// remote client all sit on it, so they cannot disagree. Request and response shapes are the API's.
// References (`flowRef`, `stepRef`) accept an `_id` or a name, as a person would type them.

export interface StepInfo {
  _id: string;
  name: string;
  type: StepKind;
  position: number;
  numOpenError: number;
  lastErrorAt?: string;
}

export interface FlowInfo {
  _id: string;
  name: string;
  disabled: boolean;
  file: string;
  lastExecutedAt?: string;
  numOpenError: number;
  steps: StepInfo[];
  /** No flow file defines it any more; its errors can be read and resolved, not retried or run. */
  removed?: true;
  lastJob?: Pick<Job, '_id' | 'status' | 'startedAt' | 'endedAt'>;
}

export interface JobDetail extends Job {
  children: Job[];
  note?: string;
}

export interface ErrorListParams {
  /** Query-language text; flags are merged into it by the caller. */
  query?: string;
  limit?: number;
  /** Continue after this errorId (newest-first keyset paging, what nextPageURL carries). */
  before?: string;
  /** Oldest first (`asc`): pages upward from the oldest error, continuing with `after`. */
  order?: 'desc' | 'asc';
  /** With `order: 'asc'`: only errors newer than this errorId. */
  after?: string;
}

export interface ErrorCountParams {
  /** Query-language text, as for listErrors. */
  query?: string;
  /** Count the resolved errors instead of the open ones. */
  resolved?: boolean;
}

export type FacetField = 'classification' | 'code' | 'source';
export interface Facet {
  value: string;
  count: number;
}

export interface JobListParams {
  flowRef?: string;
  type?: JobType;
  status?: JobStatus;
  /** Who started the jobs (an operator's email, `auto`, …). */
  triggeredBy?: string;
  limit?: number;
  /** Continue after this jobId (newest first), as the last job of the page before. */
  before?: string;
}

/**
 * Automatic retries as the TUI keeps them going: how many are due, and whether a worker runs them
 * (`started`: none was alive, one was started now; `off`: FLOWDECK_WORKER=off, they wait for a
 * `flowdeck worker` started by hand).
 */
export interface AutomaticRetries {
  due: number;
  worker: 'running' | 'started' | 'off' | 'idle';
}

/** A job as listed: the API's Job and, on a job that failed, why (not part of the API's shape). */
export type JobListEntry = Job & { note?: string };

export interface RunFlowOptions {
  /** Called with the job as it progresses (after every committed page). */
  onProgress?: (job: Job) => void;
}

export interface Backend {
  /** Retry jobs: queue, wait, cancel, report. */
  readonly retries: RetryApi;
  /** Assign, tag, resolve, reopen, delete resolved; the tag catalog, users and config. */
  readonly triage: TriageApi;
  /** Retry data, request traces, execution logs, job search, CSV export, enable/disable. */
  readonly records: RecordsApi;

  listFlows(): Promise<FlowInfo[]>;
  getFlow(flowRef: string): Promise<FlowInfo>;
  runFlow(flowRef: string, options?: RunFlowOptions): Promise<JobDetail>;

  listJobs(params?: JobListParams): Promise<JobListEntry[]>;
  getJob(jobId: string): Promise<JobDetail>;
  /** Starts a background worker when retries are due or queued and none runs (as queueing work does). */
  keepAutomaticRetries(): Promise<AutomaticRetries>;

  flowErrors(flowRef: string): Promise<FlowErrorsResponse>;
  listErrors(flowRef: string, stepRef: string, params?: ErrorListParams): Promise<FlowStepErrorsResponse>;
  filterMetadata(): Promise<ErrorsFilterMetadataResponse>;
  /** Open errors of a step counted by classification, code or source, largest first. */
  errorFacets(flowRef: string, stepRef: string, field: FacetField): Promise<Facet[]>;
  /** How many open (or resolved) errors of a step match a query: a read, never a lock on writers. */
  countErrors(flowRef: string, stepRef: string, params?: ErrorCountParams): Promise<number>;
  /** Errors counted by signature (a step's, or every step's of the flow), largest or newest first. */
  errorGroups(flowRef: string, stepRef: string | undefined, params?: ErrorGroupParams): Promise<ErrorGroupsResponse>;

  close(): Promise<void>;
}
