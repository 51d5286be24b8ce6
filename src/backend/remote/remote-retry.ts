import type { Job } from '../../domain/api.js';
import { ROUTES } from '../wire/routes.js';
import { notAvailable } from './remote-errors.js';
import type { RemoteBackend } from './remote-backend.js';
import { selectOnClient } from './remote-selection.js';
import type { ErrorSelection, JobDetail, RetryApi, RetryPreview, RetryRecordCounts, RetryReport, RetryRequest } from '../contract/index.js';

// Retries over HTTP: queueing answers the queued job at once (200), or nothing when no snapshot
// matched (204). A flowdeck server takes any selection, a back-off policy and a rate in one body; a
// plain spec server takes retryDataKeys on `…/retry` or `…/retry_with_exponential_decay` (its own
// back-off), the keys collected here from the step's listing. Following a job is followJob's.

export class RemoteRetries implements RetryApi {
  constructor(private readonly remote: RemoteBackend) {}

  async retry(flowRef: string, stepRef: string, selection: ErrorSelection, request: RetryRequest = {}): Promise<JobDetail | undefined> {
    const ref = await this.remote.stepOf(flowRef, stepRef);
    const path = { _id: ref.flow._id, _stepId: ref.step._id };
    const flowdeck = (await this.remote.server()).flowdeck;
    let job: Job | undefined;
    if (flowdeck) {
      const body = { selection, ...(request.backoff ? { backoff: request.backoff } : {}), ...(request.ratePerSecond !== undefined ? { ratePerSecond: request.ratePerSecond } : {}) };
      job = (await this.remote.http.call<Job>(ROUTES.retrySelection, { path, body })).body;
    } else {
      if (request.ratePerSecond !== undefined) throw notAvailable('a retry rate (--rate)', this.remote.url);
      const keys = await this.keysOf(ref, selection);
      if (keys.length === 0) return undefined;
      job = (await this.remote.http.call<Job>(request.backoff ? ROUTES.retryWithBackoff : ROUTES.retry, { path, body: { retryDataKeys: keys } })).body;
    }
    if (!job) return undefined;
    return { ...job, children: (job as Partial<JobDetail>).children ?? [] };
  }

  /** The retryDataKeys a selection names: the keys given, and those of the selected errors. */
  private async keysOf(ref: Parameters<typeof selectOnClient>[1], selection: ErrorSelection): Promise<string[]> {
    const given = selection.retryDataKeys?.filter((k) => k.trim() !== '') ?? [];
    const needErrors = Boolean(selection.errorIds?.length) || selection.all === true || Boolean(selection.query?.trim());
    const keys = new Set(given);
    if (needErrors) {
      const { retryDataKeys: _keys, ...errorsOnly } = selection;
      const selected = await selectOnClient(this.remote, ref, errorsOnly, 'open', { needListing: true });
      for (const e of selected) if (e.retryDataKey) keys.add(e.retryDataKey);
    }
    return [...keys];
  }

  async preview(flowRef: string, stepRef: string, selection: ErrorSelection): Promise<RetryPreview> {
    await this.remote.requireFlowdeck('retry preview (--dry-run)');
    const ref = await this.remote.stepOf(flowRef, stepRef);
    return (await this.remote.http.call<RetryPreview>(ROUTES.retryPreview, { path: { _id: ref.flow._id, _stepId: ref.step._id }, body: { selection } })).body!;
  }

  async cancelJob(jobId: string): Promise<JobDetail> {
    await this.remote.requireFlowdeck('jobs cancel');
    const job = (await this.remote.http.call<JobDetail>(ROUTES.cancelJob, { path: { jobId }, body: {} })).body!;
    return { ...job, children: job.children ?? [] };
  }

  async retryReport(jobId: string): Promise<RetryReport> {
    await this.remote.requireFlowdeck('retry report');
    return (await this.remote.http.call<RetryReport>(ROUTES.retryReport, { path: { jobId } })).body!;
  }

  async recordCounts(jobId: string): Promise<RetryRecordCounts | undefined> {
    await this.remote.requireFlowdeck('retry record counts');
    // 204: a job of another type has no records.
    return (await this.remote.http.call<RetryRecordCounts>(ROUTES.recordCounts, { path: { jobId } })).body;
  }
}
