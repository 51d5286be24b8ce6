import type { Job, JobStatus, JobType } from '../../domain/api.js';

// Flows, their steps and jobs as the Backend answers them: plain data, the API's Job inside.

export type StepKind = 'export' | 'lookup' | 'import';

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
  /** The flow file that defines it: only a local workspace has one. */
  file?: string;
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

export interface GetJobOptions {
  /**
   * Long-poll: answer when the job's status or counters change, or after this many milliseconds
   * (a server caps it). Without it the job is answered as it is now.
   */
  waitMs?: number;
  /** Ends a long-poll early, answering the job as it is then (a closing server stops its waits). */
  signal?: AbortSignal;
}

export interface JobListParams {
  flowRef?: string;
  type?: JobType;
  status?: JobStatus;
  /** Who started the jobs (an operator's email, `auto`, … — `me` is the acting user). */
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
