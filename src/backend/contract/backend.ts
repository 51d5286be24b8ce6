import type { ErrorsFilterMetadataResponse, FlowErrorsResponse, FlowStepErrorsResponse } from '../../domain/api.js';
import type { ErrorCountParams, ErrorGroupParams, ErrorGroupsResponse, ErrorListParams, Facet, FacetField } from './errors.js';
import type { AutomaticRetries, FlowInfo, GetJobOptions, JobDetail, JobListEntry, JobListParams } from './flows.js';
import type { RecordsApi } from './records.js';
import type { RetryApi } from './retry.js';
import type { TriageApi } from './triage.js';

// The one service interface of flowdeck: the commands, the TUI and `flowdeck serve` sit on it, and
// LocalBackend (a workspace in this process) and RemoteBackend (a server over HTTP) implement it,
// so no face can disagree with another. Every operation is plain data in and out, in the API's
// shapes; references (`flowRef`, `stepRef`) accept an `_id` or a name, as a person types them.
// Who acts belongs to the backend: the operator of a local workspace, the token's user on a server.

/** Who the backend acts as, and where. */
export interface WhoAmI {
  email: string;
  /** `local` for a workspace in this process, else the server's base URL. */
  location: string;
}

export interface Backend {
  /** Retry jobs: queue, preview, cancel, report. */
  readonly retries: RetryApi;
  /** Assign, tag, resolve, reopen, delete resolved; the tag catalog, users and config. */
  readonly triage: TriageApi;
  /** Retry data, request traces, execution logs, job search, CSV export, enable/disable. */
  readonly records: RecordsApi;

  whoami(): Promise<WhoAmI>;

  listFlows(): Promise<FlowInfo[]>;
  getFlow(flowRef: string): Promise<FlowInfo>;
  /** Starts a run and answers its job at once; follow it with followJob. */
  runFlow(flowRef: string): Promise<JobDetail>;

  listJobs(params?: JobListParams): Promise<JobListEntry[]>;
  getJob(jobId: string, options?: GetJobOptions): Promise<JobDetail>;
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
