import type { Job } from '../../domain/api.js';
import type { BackoffPolicy } from '../../domain/backoff.js';
import type { ErrorSelection } from './errors.js';
import type { JobDetail } from './flows.js';

// Retry jobs as plain data: queueing answers the queued job; following it is the client's
// (src/backend/follow-job.ts, over getJob).

/** A retry job's records by item state. */
export interface RetryItemCounts {
  pending: number;
  resolved: number;
  failed: number;
  skipped: number;
  /** Records whose errors someone else resolved (or deleted) after the job was queued. */
  resolvedMeanwhile: number;
}

export interface RetryRequest {
  backoff?: BackoffPolicy & { maxAttempts: number };
  ratePerSecond?: number;
}

/** Where a retry job's records stand, by item state, and in all (what a progress bar fills up to). */
export type RetryRecordCounts = RetryItemCounts & { total: number };

export interface RetryReportItem {
  retryDataKey: string;
  /** resolved_meanwhile: someone resolved (or deleted) the record's errors while the job had it; its outcome changed nothing. */
  outcome: 'resolved' | 'failed' | 'skipped' | 'pending' | 'resolved_meanwhile';
  attempts: number;
  newErrorId?: string;
  detail?: string;
}

export interface RetryReport {
  job: Job;
  summary: RetryItemCounts;
  items: RetryReportItem[];
}

/** What a retry of a selection would queue (--dry-run): one record per retryDataKey. */
export interface RetryPreview {
  /** Records that would be retried: retryDataKeys.length. */
  count: number;
  /** In the order of their newest selected error, newest first. */
  retryDataKeys: string[];
  /** The selected open errors that carry those snapshots, newest first (as FlowStepAffectedErrorsResponse). */
  errorsToReturn: string[];
  /** Selected records left out because another unfinished retry job already has them queued. */
  alreadyQueued: number;
  /** With alreadyQueued: the unfinished retry jobs that hold those records, oldest first. */
  heldBy?: string[];
}

export interface RetryApi {
  /** Queues a retry job and answers it as queued; undefined when no snapshot matched. */
  retry(flowRef: string, stepRef: string, selection: ErrorSelection, request?: RetryRequest): Promise<JobDetail | undefined>;
  /** What `retry` would queue, with the same checks, queueing nothing. */
  preview(flowRef: string, stepRef: string, selection: ErrorSelection): Promise<RetryPreview>;
  cancelJob(jobId: string): Promise<JobDetail>;
  retryReport(jobId: string): Promise<RetryReport>;
  /** A retry job's record counts (cheap: one grouped count), or undefined for a job of another type. */
  recordCounts(jobId: string): Promise<RetryRecordCounts | undefined>;
}
