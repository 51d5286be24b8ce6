import { TERMINAL_JOB_STATUSES } from '../domain/api.js';
import { ConflictError, InactiveFlowError, InvalidInputError, RemovedFlowError } from '../domain/errors.js';
import { encodeId, encodeIdAtSeconds } from '../domain/ids.js';
import { ensureWorker } from '../runtime/worker.js';
import type { StorePorts } from '../store/contract/ports.js';
import type { FlowRow, StepRow } from '../store/contract/rows.js';
import type { LocalBackend } from './local-backend.js';
import { heldByMessage } from './held-message.js';
import { selectErrors } from './selection.js';
import { errorIdOf } from './shapes.js';
import type { ErrorSelection, JobDetail, RetryApi, RetryPreview, RetryRecordCounts, RetryReport, RetryReportItem, RetryRequest } from './contract/index.js';

// Retry as the API defines it: re-feed snapshots as a durable `retry` job (plain, or with
// exponential back-off), no job at all when no key matches (204), refused on a disabled flow.

export class RetryService implements RetryApi {
  constructor(private readonly local: LocalBackend) {}

  async retry(flowRef: string, stepRef: string, selection: ErrorSelection, request: RetryRequest = {}): Promise<JobDetail | undefined> {
    const { ws } = this.local;
    if (request.ratePerSecond !== undefined && !(request.ratePerSecond > 0)) throw new InvalidInputError('--rate must be more than 0 per second', 'rate');
    const { flow, step, rowIds } = await this.select(flowRef, stepRef, selection, ws.store);
    const retryData = await ws.store.retries.retryDataOf(rowIds);
    if (retryData.length === 0) return undefined;
    const runtime = this.local.runtime;
    const options = { ...(request.backoff ? { backoff: request.backoff } : {}), ...(request.ratePerSecond ? { ratePerSecond: request.ratePerSecond } : {}) };
    const jobId = await runtime.retries().queue(flow.id, step.key, retryData, this.local.operator, options);
    if (jobId === undefined) throw new ConflictError(await this.heldMessage(await ws.store.retries.holdersOf(retryData)), 'retry_in_progress');
    await ensureWorker(ws);
    return this.local.getJob(encodeId('job', jobId, (await ws.store.jobs.getJob(jobId))!.createdAt));
  }

  async preview(flowRef: string, stepRef: string, selection: ErrorSelection): Promise<RetryPreview> {
    // One transaction: the reads agree with each other.
    return this.local.store.withTransaction(async (tx): Promise<RetryPreview> => {
      const { rowIds } = await this.select(flowRef, stepRef, selection, tx);
      // The snapshots retry() would hand to RetryRunner.queue, less those queue() would leave out.
      const retryData = await tx.retries.retryDataOf(rowIds);
      const busy = await tx.retries.pendingElsewhere(retryData);
      const todo = new Set(retryData.filter((rd) => !busy.has(rd)));
      const errors = (await tx.retries.openErrorSnapshots(rowIds)).filter((e) => todo.has(e.retryData));
      errors.sort((a, b) => b.id - a.id);
      const keys = new Map<number, string>();
      for (const e of errors) if (!keys.has(e.retryData)) keys.set(e.retryData, encodeIdAtSeconds('retryData', e.retryData, e.retryDataSeconds));
      const preview: RetryPreview = { count: keys.size, retryDataKeys: [...keys.values()], errorsToReturn: errors.map(errorIdOf), alreadyQueued: busy.size };
      if (busy.size > 0) preview.heldBy = await this.jobIds(await tx.retries.holdersOf([...busy]), tx);
      return preview;
    });
  }

  private async heldMessage(holders: readonly number[]): Promise<string> {
    return heldByMessage(await this.jobIds(holders, this.local.store));
  }

  private async jobIds(jobs: readonly number[], ports: StorePorts): Promise<string[]> {
    const ids: string[] = [];
    for (const id of jobs) ids.push(encodeId('job', id, (await ports.jobs.getJob(id))!.createdAt));
    return ids;
  }

  /** The selected errors of a step whose records can be retried: refused on a disabled flow or an export. */
  private async select(flowRef: string, stepRef: string, selection: ErrorSelection, ports: StorePorts): Promise<{ flow: FlowRow; step: StepRow; rowIds: number[] }> {
    const flow = await this.local.resolveFlow(flowRef, ports);
    if (flow.removed) throw new RemovedFlowError(flow.name, flow.file, 'retrying');
    if (flow.disabled) throw new InactiveFlowError(flow.name);
    const { step, rowIds } = await selectErrors(this.local, flow.id, stepRef, selection, 'open', {}, ports);
    if (step.kind === 'export') throw new InvalidInputError(`step "${step.name}" is an export: its errors are page failures; run the flow again to recover them`);
    if (step.position >= 1000) throw new InvalidInputError(`step "${step.name}" is no longer in flow "${flow.name}": its records have nowhere to be retried`);
    return { flow, step, rowIds };
  }


  async cancelJob(jobId: string): Promise<JobDetail> {
    const now = Date.now();
    const by = this.local.operator;
    // The status is read in the transaction that changes it: a worker claiming the job (queued →
    // running) in between must not have its running job settled as if nobody ran it.
    await this.local.store.withTransaction(async (tx) => {
      const row = await this.local.resolveJob(jobId, tx);
      if (TERMINAL_JOB_STATUSES.includes(row.status)) throw new ConflictError(`job ${jobId} already ${row.status}`, 'job_finished');
      if (row.status === 'queued') {
        // Nobody runs it yet: settle it here, leaving its errors open and untouched.
        if (row.type === 'retry') await tx.retries.skipPending(row.id, 'canceled before it was retried');
        await tx.jobs.updateJob(row.id, { status: 'canceled', canceledBy: by, endedAt: now }, now);
      } else {
        await tx.jobs.updateJob(row.id, { status: 'canceling', canceledBy: by }, now);
      }
      await tx.auditLog.audit({ at: now, actor: by, action: 'cancel_job', ...(row.flowId ? { flowId: row.flowId } : {}), count: 1, detail: { job: jobId } });
    });
    return this.local.getJob(jobId);
  }

  async recordCounts(jobId: string): Promise<RetryRecordCounts | undefined> {
    const row = await this.local.resolveJob(jobId);
    if (row.type !== 'retry') return undefined;
    const counts = await this.local.store.retries.counts(row.id);
    return { ...counts, total: counts.pending + counts.resolved + counts.failed + counts.skipped + counts.resolvedMeanwhile };
  }

  async retryReport(jobId: string): Promise<RetryReport> {
    const { store } = this.local;
    const row = await this.local.resolveJob(jobId);
    if (row.type !== 'retry') throw new InvalidInputError(`job ${jobId} is a ${row.type} job, not a retry job`);
    const items: RetryReportItem[] = [];
    for (const item of await store.retries.items(row.id)) {
      const rd = await store.records.getRetryData(item.retryData);
      const out: RetryReportItem = {
        retryDataKey: rd ? encodeId('retryData', rd.id, rd.createdAt) : String(item.retryData),
        outcome: item.state as RetryReportItem['outcome'],
        attempts: item.attempts,
      };
      if (item.resultError !== null) {
        const error = await store.errors.getError(item.resultError);
        if (error) out.newErrorId = errorIdOf(error);
      }
      if (item.detail) out.detail = item.detail;
      items.push(out);
    }
    const counts = await store.retries.counts(row.id);
    return { job: await this.local.jobOf(row), summary: counts, items };
  }
}

