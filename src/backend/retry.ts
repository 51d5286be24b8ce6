import { TERMINAL_JOB_STATUSES, type Job } from '../domain/api.js';
import type { BackoffPolicy } from '../domain/backoff.js';
import { ConflictError, InactiveFlowError, InvalidInputError, RemovedFlowError } from '../domain/errors.js';
import { encodeId, encodeIdAtSeconds } from '../domain/ids.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureWorker } from '../runtime/worker.js';
import { RetryRepo, type RetryItemCounts } from '../store/retry-repo.js';
import type { FlowRow, StepRow } from '../store/rows.js';
import type { JobDetail } from './backend.js';
import type { LocalBackend } from './local-backend.js';
import { heldByMessage } from './held-message.js';
import { selectErrors, type ErrorSelection } from './selection.js';
import { errorIdOf } from './shapes.js';

// Retry as the API defines it: re-feed snapshots as a durable `retry` job (plain, or with
// exponential back-off), no job at all when no key matches (204), refused on a disabled flow.

export interface RetryRequest {
  backoff?: BackoffPolicy & { maxAttempts: number };
  ratePerSecond?: number;
  /** Run the job in this process (and report progress) instead of handing it to the worker. */
  wait?: boolean;
  onProgress?: (job: Job) => void;
  /** Called once the job is queued, before it runs: the job and how many records it holds. */
  onQueued?: (job: Job, records: number) => void;
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
  /** Queues (and with `wait`, runs) a retry job; undefined when no snapshot matched. */
  retry(flowRef: string, stepRef: string, selection: ErrorSelection, request?: RetryRequest): Promise<JobDetail | undefined>;
  /** What `retry` would queue, with the same checks, queueing nothing. */
  preview(flowRef: string, stepRef: string, selection: ErrorSelection): Promise<RetryPreview>;
  waitForJob(jobId: string, onProgress?: (job: Job) => void, timeoutMs?: number): Promise<JobDetail>;
  cancelJob(jobId: string): Promise<JobDetail>;
  retryReport(jobId: string): Promise<RetryReport>;
  /** A retry job's record counts (cheap: one grouped count), or undefined for a job of another type. */
  recordCounts(jobId: string): Promise<RetryRecordCounts | undefined>;
}

export class RetryService implements RetryApi {
  constructor(private readonly local: LocalBackend) {}

  async retry(flowRef: string, stepRef: string, selection: ErrorSelection, request: RetryRequest = {}): Promise<JobDetail | undefined> {
    const { ws } = this.local;
    if (request.ratePerSecond !== undefined && !(request.ratePerSecond > 0)) throw new InvalidInputError('--rate must be more than 0 per second', 'rate');
    const { flow, step, rowIds } = this.select(flowRef, stepRef, selection);
    const repo = new RetryRepo(ws.store);
    const retryData = repo.retryDataOf(rowIds);
    if (retryData.length === 0) return undefined;
    const runtime = this.local.runtime;
    const options = { ...(request.backoff ? { backoff: request.backoff } : {}), ...(request.ratePerSecond ? { ratePerSecond: request.ratePerSecond } : {}) };
    const jobId = runtime.retries().queue(flow.id, step.key, retryData, ws.operator(), options);
    if (jobId === undefined) throw new ConflictError(this.heldMessage(repo.holdersOf(retryData)), 'retry_in_progress');
    request.onQueued?.(this.local.jobOf(ws.store.getJob(jobId)!), repo.pendingCount(jobId));
    if (request.wait) {
      const progress = request.onProgress;
      const report = progress ? () => progress(this.local.jobOf(ws.store.getJob(jobId)!)) : undefined;
      const ranHere = await runtime.runRetryJob(jobId, report);
      // A worker claimed it first: follow it to the end instead.
      if (!ranHere) await this.waitForJob(encodeId('job', jobId, ws.store.getJob(jobId)!.createdAt), progress);
    } else {
      ensureWorker(ws);
    }
    return this.local.getJob(encodeId('job', jobId, ws.store.getJob(jobId)!.createdAt));
  }

  async preview(flowRef: string, stepRef: string, selection: ErrorSelection): Promise<RetryPreview> {
    const { store } = this.local.ws;
    // One read transaction: the reads agree with each other, and a running retry is not held up.
    return store.db.transaction((): RetryPreview => {
      const { rowIds } = this.select(flowRef, stepRef, selection);
      // The snapshots retry() would hand to RetryRunner.queue, less those queue() would leave out.
      const repo = new RetryRepo(store);
      const retryData = repo.retryDataOf(rowIds);
      const busy = repo.pendingElsewhere(retryData);
      const todo = new Set(retryData.filter((rd) => !busy.has(rd)));
      const errors = repo.openErrorSnapshots(rowIds).filter((e) => todo.has(e.retryData));
      errors.sort((a, b) => b.id - a.id);
      const keys = new Map<number, string>();
      for (const e of errors) if (!keys.has(e.retryData)) keys.set(e.retryData, encodeIdAtSeconds('retryData', e.retryData, e.retryDataSeconds));
      const preview: RetryPreview = { count: keys.size, retryDataKeys: [...keys.values()], errorsToReturn: errors.map(errorIdOf), alreadyQueued: busy.size };
      if (busy.size > 0) preview.heldBy = this.jobIds(repo.holdersOf([...busy]));
      return preview;
    }).deferred();
  }

  private heldMessage(holders: readonly number[]): string {
    return heldByMessage(this.jobIds(holders));
  }

  private jobIds(jobs: readonly number[]): string[] {
    return jobs.map((id) => encodeId('job', id, this.local.ws.store.getJob(id)!.createdAt));
  }

  /** The selected errors of a step whose records can be retried: refused on a disabled flow or an export. */
  private select(flowRef: string, stepRef: string, selection: ErrorSelection): { flow: FlowRow; step: StepRow; rowIds: number[] } {
    const flow = this.local.resolveFlow(flowRef);
    if (flow.removed) throw new RemovedFlowError(flow.name, flow.file, 'retrying');
    if (flow.disabled) throw new InactiveFlowError(flow.name);
    const { step, rowIds } = selectErrors(this.local, flow.id, stepRef, selection);
    if (step.kind === 'export') throw new InvalidInputError(`step "${step.name}" is an export: its errors are page failures; run the flow again to recover them`);
    if (step.position >= 1000) throw new InvalidInputError(`step "${step.name}" is no longer in flow "${flow.name}": its records have nowhere to be retried`);
    return { flow, step, rowIds };
  }

  async waitForJob(jobId: string, onProgress?: (job: Job) => void, timeoutMs = 0): Promise<JobDetail> {
    const started = Date.now();
    for (;;) {
      const row = this.local.resolveJob(jobId);
      const job = this.local.jobOf(row);
      onProgress?.(job);
      if (TERMINAL_JOB_STATUSES.includes(row.status)) return this.local.getJob(jobId);
      if (timeoutMs > 0 && Date.now() - started > timeoutMs) throw new ConflictError(`job ${jobId} is still ${row.status} after ${Math.round(timeoutMs / 1000)}s`, 'timeout');
      // A queued job nobody is running (its worker died): make sure one runs it.
      if (row.status === 'queued' && row.type === 'retry') ensureWorker(this.local.ws);
      await sleep(200);
    }
  }

  async cancelJob(jobId: string): Promise<JobDetail> {
    const { store } = this.local.ws;
    const now = Date.now();
    const by = this.local.ws.operator();
    // The status is read in the transaction that changes it: a worker claiming the job (queued →
    // running) in between must not have its running job settled as if nobody ran it.
    store.transaction(() => {
      const row = this.local.resolveJob(jobId);
      if (TERMINAL_JOB_STATUSES.includes(row.status)) throw new ConflictError(`job ${jobId} already ${row.status}`, 'job_finished');
      if (row.status === 'queued') {
        // Nobody runs it yet: settle it here, leaving its errors open and untouched.
        if (row.type === 'retry') new RetryRepo(store).skipPending(row.id, 'canceled before it was retried');
        store.updateJob(row.id, { status: 'canceled', canceledBy: by, endedAt: now }, now);
      } else {
        store.updateJob(row.id, { status: 'canceling', canceledBy: by }, now);
      }
      store.audit({ at: now, actor: by, action: 'cancel_job', ...(row.flowId ? { flowId: row.flowId } : {}), count: 1, detail: { job: jobId } });
    });
    return this.local.getJob(jobId);
  }

  async recordCounts(jobId: string): Promise<RetryRecordCounts | undefined> {
    const row = this.local.resolveJob(jobId);
    if (row.type !== 'retry') return undefined;
    const counts = new RetryRepo(this.local.ws.store).counts(row.id);
    return { ...counts, total: counts.pending + counts.resolved + counts.failed + counts.skipped + counts.resolvedMeanwhile };
  }

  async retryReport(jobId: string): Promise<RetryReport> {
    const { store } = this.local.ws;
    const row = this.local.resolveJob(jobId);
    if (row.type !== 'retry') throw new InvalidInputError(`job ${jobId} is a ${row.type} job, not a retry job`);
    const repo = new RetryRepo(store);
    const items = repo.items(row.id).map((item): RetryReportItem => {
      const rd = store.getRetryData(item.retryData);
      const out: RetryReportItem = {
        retryDataKey: rd ? encodeId('retryData', rd.id, rd.createdAt) : String(item.retryData),
        outcome: item.state as RetryReportItem['outcome'],
        attempts: item.attempts,
      };
      if (item.resultError !== null) {
        const error = store.getError(item.resultError);
        if (error) out.newErrorId = errorIdOf(error);
      }
      if (item.detail) out.detail = item.detail;
      return out;
    });
    const counts = repo.counts(row.id);
    return { job: this.local.jobOf(row), summary: counts, items };
  }
}

