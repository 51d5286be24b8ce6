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
import { ROUTES } from '../wire/routes.js';
import { notAvailable, RemoteHttpError } from './remote-errors.js';
import type { RemoteBackend, StepRef } from './remote-backend.js';
import type { TextDownload, CsvExportOptions, DeleteRequestsOptions, ErrorSelection, FlowInfo, JobSearchParams, LogChildrenParams, LogDataQuery, LogListParams, LogMetadataQuery, PutRetryDataOptions, RecordsApi, RequestListParams, RetryDataPatchResult } from '../contract/index.js';

// Retry data, request traces, execution logs, job search, enable/disable and the CSV download over
// HTTP, on the spec's routes wherever the spec has one (flowdeck's extensions otherwise). A CSV
// export is the spec's two steps: ask for a signed URL, then GET it (no token: the signature is
// the credential) as UTF-8 text chunks, header first.


export class RemoteRecords implements RecordsApi {
  constructor(private readonly remote: RemoteBackend) {}

  private get http() {
    return this.remote.http;
  }

  private async at(flowRef: string, stepRef: string): Promise<{ ref: StepRef; path: Record<string, string> }> {
    const ref = await this.remote.stepOf(flowRef, stepRef);
    return { ref, path: { _id: ref.flow._id, _stepId: ref.step._id } };
  }

  // ---- retry data -------------------------------------------------------------------------------

  async getRetryData(flowRef: string, stepRef: string, key: string): Promise<FlowStepRetryData> {
    const { path } = await this.at(flowRef, stepRef);
    return required((await this.http.call<FlowStepRetryData>(ROUTES.getRetryData, { path: { ...path, retryDataKey: key } })).body, this.remote.url, 'retry data');
  }

  /** PUT …/data answers 204: what was stored is read back. A dry run is flowdeck's check route. */
  async putRetryData(flowRef: string, stepRef: string, key: string, envelope: unknown, options: PutRetryDataOptions = {}): Promise<FlowStepRetryData> {
    const { path } = await this.at(flowRef, stepRef);
    const keyed = { ...path, retryDataKey: key };
    if (options.dryRun) {
      await this.remote.requireFlowdeck('checking retry data (--dry-run)');
      return required((await this.http.call<FlowStepRetryData>(ROUTES.checkRetryData, { path: keyed, body: envelope })).body, this.remote.url, 'retry data');
    }
    const { body } = await this.http.call<FlowStepRetryData>(ROUTES.putRetryData, { path: keyed, body: envelope });
    return body ?? this.getRetryData(path._id!, path._stepId!, key);
  }

  async patchRetryData(flowRef: string, stepRef: string, selection: ErrorSelection, ops: readonly PatchOp[], options: { dryRun?: boolean } = {}): Promise<RetryDataPatchResult> {
    await this.remote.requireFlowdeck('patching retry data');
    const { path } = await this.at(flowRef, stepRef);
    const body = { selection, ops, ...(options.dryRun ? { dryRun: true } : {}) };
    return required((await this.http.call<RetryDataPatchResult>(ROUTES.patchRetryData, { path, body })).body, this.remote.url, 'patch result');
  }

  // ---- request traces ---------------------------------------------------------------------------

  async listRequests(flowRef: string, stepRef: string, params: RequestListParams = {}): Promise<FlowStepRequestsListResponse> {
    const { path } = await this.at(flowRef, stepRef);
    const query = { time_lte: params.timeLte, time_gt: params.timeGt, statusCode: params.statusCode, method: params.method, stage: params.stage, pageSize: params.pageSize, before: params.before };
    const body = (await this.http.call<FlowStepRequestsListResponse>(ROUTES.listRequests, { path, query })).body;
    return { requests: body?.requests ?? [], nextPageURL: body?.nextPageURL ?? null };
  }

  async getRequest(flowRef: string, stepRef: string, key: string): Promise<FlowStepRequestResponse> {
    const { path } = await this.at(flowRef, stepRef);
    return required((await this.http.call<FlowStepRequestResponse>(ROUTES.getRequest, { path: { ...path, reqAndResKey: key } })).body, this.remote.url, 'request trace');
  }

  async deleteRequests(flowRef: string, stepRef: string, keys: readonly string[], options: DeleteRequestsOptions = {}): Promise<FlowStepRequestsDeleteResponse> {
    if (options.dryRun) await this.remote.requireFlowdeck('deleting request traces as a dry run');
    const { path } = await this.at(flowRef, stepRef);
    const { body } = await this.http.call<FlowStepRequestsDeleteResponse>(ROUTES.deleteRequests, { path, body: { keys }, query: { dryRun: options.dryRun ? true : undefined } });
    return body ?? { deleted: [...keys], errors: [] };
  }

  // ---- jobs and flows ---------------------------------------------------------------------------

  async searchJobs(flowRef: string, traceKeyPrefix: string, params: JobSearchParams = {}): Promise<FlowJobsSearchResponse> {
    const { _id } = await this.remote.flowOf(flowRef);
    const { body } = await this.http.call<FlowJobsSearchResponse>(ROUTES.searchJobs, { path: { _id }, query: { traceKeyPrefix, pageSize: params.pageSize } });
    return body ?? { runs: [] };
  }

  /** The spec's JSON patch of `/disabled` (204), then the flow as it now is. */
  async setFlowDisabled(flowRef: string, disabled: boolean): Promise<FlowInfo> {
    const { _id } = await this.remote.flowOf(flowRef);
    await this.http.call(ROUTES.patchFlow, { path: { _id }, body: [{ op: 'replace', path: '/disabled', value: disabled }] });
    return this.remote.getFlow(_id);
  }

  // ---- execution logs ---------------------------------------------------------------------------

  async listLogs(flowRef: string, jobId: string, params: LogListParams = {}): Promise<ExecutionLogsResponse> {
    const flow = await this.remote.flowOf(flowRef);
    const stepIds = await Promise.all((params.stepRefs ?? []).map(async (s) => (await this.remote.stepOf(flow._id, s)).step._id));
    const query = {
      status: params.status,
      _expOrImpId: stepIds.length > 0 ? stepIds.join(',') : undefined,
      traceKeyPrefix: params.traceKeyPrefix,
      sortOrder: params.sortOrder,
      pageSize: params.pageSize,
      next: params.next,
      prev: params.prev,
    };
    const { body } = await this.http.call<ExecutionLogsResponse>(ROUTES.listLogs, { path: { _id: flow._id, _jobId: jobId }, query });
    return body ?? { logs: [], nextPageUrl: null, prevPageUrl: null };
  }

  async findLogEntry(flowRef: string, jobId: string, recordId: string, stepRef?: string): Promise<ExecutionLogEntry> {
    await this.remote.requireFlowdeck('finding a log entry by record id');
    const flow = await this.remote.flowOf(flowRef);
    const stepId = stepRef !== undefined ? (await this.remote.stepOf(flow._id, stepRef)).step._id : undefined;
    const { body } = await this.http.call<ExecutionLogEntry>(ROUTES.findLogEntry, { path: { _id: flow._id, _jobId: jobId, recordId }, query: { stepId } });
    return required(body, this.remote.url, 'log entry');
  }

  async logMetadata(flowRef: string, jobId: string, query: LogMetadataQuery): Promise<ExecutionLogMetadataResponse> {
    const { ref } = await this.at(flowRef, query._expOrImpId);
    const body = { ...query, _expOrImpId: ref.step._id };
    return required((await this.http.call<ExecutionLogMetadataResponse>(ROUTES.logMetadata, { path: { _id: ref.flow._id, _jobId: jobId }, body })).body, this.remote.url, 'log metadata');
  }

  async logData(flowRef: string, jobId: string, query: LogDataQuery): Promise<ExecutionLogDataResponse> {
    const { ref } = await this.at(flowRef, query._expOrImpId);
    const body = { ...query, _expOrImpId: ref.step._id };
    return (await this.http.call<ExecutionLogDataResponse>(ROUTES.logData, { path: { _id: ref.flow._id, _jobId: jobId }, body })).body ?? { logs: [] };
  }

  async logChildren(flowRef: string, jobId: string, stepRef: string, recordId: string, params: LogChildrenParams = {}): Promise<FlowJobLogChildrenResponse> {
    const { ref } = await this.at(flowRef, stepRef);
    const { body } = await this.http.call<FlowJobLogChildrenResponse>(ROUTES.logChildren, {
      path: { _id: ref.flow._id, _jobId: jobId, _stepId: ref.step._id, recordId },
      query: { status: params.status, pageSize: params.pageSize, offset: params.offset },
    });
    return body ?? { children: [], nextPageUrl: null, prevPageUrl: null };
  }

  // ---- CSV --------------------------------------------------------------------------------------

  /**
   * The errors of a step (or, without stepRef, of every step of the flow: a flowdeck extension) as
   * CSV text chunks. Everything that can fail before the first byte (an unknown flow, a refused
   * token, the signed URL's GET) rejects the promise.
   */
  async exportErrors(flowRef: string, stepRef: string | undefined, options: CsvExportOptions = {}): Promise<TextDownload> {
    const flowdeck = (await this.remote.server()).flowdeck;
    if (!flowdeck && options.query?.trim()) throw notAvailable('exporting errors by a query', this.remote.url);
    const query = { startAtErrorId: options.startAtErrorId, q: options.query?.trim() || undefined };
    let signed: { signedURL?: string } | undefined;
    if (stepRef === undefined) {
      if (!flowdeck) throw notAvailable("exporting a whole flow's errors in one file", this.remote.url);
      const { _id } = await this.remote.flowOf(flowRef);
      signed = (await this.http.call<{ signedURL?: string }>(ROUTES.flowErrorsSignedURL, { path: { _id }, query: { ...query, resolved: options.resolved ? true : undefined } })).body;
    } else {
      const { path } = await this.at(flowRef, stepRef);
      signed = (await this.http.call<{ signedURL?: string }>(options.resolved ? ROUTES.resolvedSignedURL : ROUTES.errorsSignedURL, { path, query })).body;
    }
    if (!signed?.signedURL) throw new RemoteHttpError(`${this.remote.url} answered no signedURL for the CSV export`, 502, 'bad_response');
    return this.http.download(signed.signedURL);
  }

}

function required<T>(body: T | undefined, url: string, what: string): T {
  if (body === undefined) throw new RemoteHttpError(`${url} answered no ${what}`, 502, 'bad_response');
  return body;
}

