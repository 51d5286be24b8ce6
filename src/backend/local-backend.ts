import type { ErrorsFilterMetadataResponse, FlowErrorsResponse, FlowStepErrorsResponse, Job } from '../domain/api.js';
import { InvalidInputError, NotFoundError, RemovedFlowError } from '../domain/errors.js';
import { filterMetadata } from '../domain/filter-metadata.js';
import { decodeId, idMatchesTime } from '../domain/ids.js';
import { hasWildcard, parseQuery, wildcardToLike } from '../domain/query.js';
import { Runtime } from '../runtime/runtime.js';
import { RetryRepo } from '../store/retry-repo.js';
import { RecordsService } from './records.js';
import { RetryService } from './retry.js';
import type { QueryContext } from '../store/error-query.js';
import type { ErrorRow, FlowRow, JobRow, StepRow } from '../store/rows.js';
import type { Workspace } from '../workspace/workspace.js';
import type { AutomaticRetries, Backend, ErrorCountParams, ErrorListParams, Facet, FacetField, FlowInfo, JobDetail, JobListEntry, JobListParams, RunFlowOptions, StepInfo } from './backend.js';
import { errorGroups, type ErrorGroupParams, type ErrorGroupsResponse } from './groups.js';
import { errorIdOf, iso, jobIdOf, toFlowStepError, toJob } from './shapes.js';
import { TriageService } from './triage.js';

// The backend over a local workspace: the SQLite store plus the embedded runtime in this process.

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export class LocalBackend implements Backend {
  private runtimeValue: Runtime | undefined;

  constructor(readonly ws: Workspace) {}

  get runtime(): Runtime {
    this.runtimeValue ??= new Runtime(this.ws);
    return this.runtimeValue;
  }

  /** Retry data, request traces, execution logs, job search, flow enable/disable, CSV export (stateless: cheap to make). */
  get records(): RecordsService {
    return new RecordsService(this);
  }

  private triageValue: TriageService | undefined;

  /** Assign, tag, resolve, reopen, delete resolved; the tag catalog, users and config. */
  get triage(): TriageService {
    this.triageValue ??= new TriageService(this);
    return this.triageValue;
  }

  private retryService: RetryService | undefined;
  get retries(): RetryService {
    this.retryService ??= new RetryService(this);
    return this.retryService;
  }

  private get store() {
    return this.ws.store;
  }

  // ---- references -----------------------------------------------------------------------------

  resolveFlow(ref: string): FlowRow {
    const flows = this.store.listFlows();
    const lower = ref.toLowerCase();
    const found =
      flows.find((f) => f.id === lower) ??
      flows.find((f) => f.name.toLowerCase() === lower) ??
      unique(flows.filter((f) => lower.length >= 6 && f.id.startsWith(lower)));
    if (!found) throw new NotFoundError('flow', `${ref} (flows: ${namesHint(flows.filter((f) => !f.removed).map((f) => f.name))})`);
    return found;
  }

  resolveStep(flow: FlowRow, ref: string): StepRow {
    const steps = this.store.steps(flow.id);
    const lower = ref.toLowerCase();
    const found =
      steps.find((s) => s.stepId === lower) ??
      steps.find((s) => s.name.toLowerCase() === lower) ??
      unique(steps.filter((s) => lower.length >= 6 && s.stepId.startsWith(lower)));
    if (!found) throw new NotFoundError(`step of flow "${flow.name}"`, `${ref} (steps: ${namesHint(steps.filter((x) => x.position < 1000).map((x) => x.name))})`);
    return found;
  }

  resolveJob(id: string): JobRow {
    const decoded = decodeId('job', id);
    const row = decoded ? this.store.getJob(decoded.rowId) : undefined;
    if (!row || !decoded || !idMatchesTime(decoded, row.createdAt)) throw new NotFoundError('job', id);
    return row;
  }

  queryContext(): QueryContext {
    const catalog = this.store.tagCatalog();
    const ws = this.ws;
    return {
      // Read only by `assignee:me`: who the operator is comes from config.json, not needed otherwise.
      get me() {
        return ws.operator();
      },
      now: Date.now(),
      tagCodes: (value) => {
        if (hasWildcard(value)) {
          const like = new RegExp(`^${wildcardToLike(value).replace(/\\([%_\\])/g, '$1').replace(/[.+^${}()|[\]]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, 'i');
          return catalog.filter((t) => like.test(t.name) || like.test(t.code)).map((t) => t.code);
        }
        const lower = value.toLowerCase();
        return catalog.filter((t) => t.code.toLowerCase() === lower || t.name.toLowerCase() === lower).map((t) => t.code);
      },
    };
  }

  tagNamer(): (code: string) => string {
    const names = new Map(this.store.tagCatalog().map((t) => [t.code, t.name]));
    return (code) => names.get(code) ?? code;
  }

  // ---- flows ----------------------------------------------------------------------------------

  private flowInfo(flow: FlowRow): FlowInfo {
    const steps: StepInfo[] = this.store
      .steps(flow.id)
      .filter((s) => s.position < 1000)
      .map((s) => {
        const stats = this.store.stepErrorStats(s.key);
        const info: StepInfo = { _id: s.stepId, name: s.name, type: s.kind, position: s.position, numOpenError: stats.open };
        if (stats.lastErrorAt !== null) info.lastErrorAt = iso(stats.lastErrorAt);
        return info;
      });
    const info: FlowInfo = {
      _id: flow.id,
      name: flow.name,
      disabled: flow.disabled,
      file: flow.file,
      numOpenError: steps.reduce((n, s) => n + s.numOpenError, 0),
      steps,
    };
    if (flow.removed) info.removed = true;
    if (flow.lastExecutedAt !== null) info.lastExecutedAt = iso(flow.lastExecutedAt);
    const last = this.store.listJobs({ flowId: flow.id, type: 'flow', limit: 1 })[0];
    if (last) {
      info.lastJob = { _id: jobIdOf(last), status: last.status };
      if (last.startedAt !== null) info.lastJob.startedAt = iso(last.startedAt);
      if (last.endedAt !== null) info.lastJob.endedAt = iso(last.endedAt);
    }
    return info;
  }

  async listFlows(): Promise<FlowInfo[]> {
    // A flow gone from the files stays listed, marked, while it has open errors: they are still to triage.
    return this.store
      .listFlows()
      .map((f) => this.flowInfo(f))
      .filter((f) => !f.removed || f.numOpenError > 0);
  }

  async getFlow(flowRef: string): Promise<FlowInfo> {
    return this.flowInfo(this.resolveFlow(flowRef));
  }

  async runFlow(flowRef: string, options: RunFlowOptions = {}): Promise<JobDetail> {
    const flow = this.resolveFlow(flowRef);
    if (flow.removed) throw new RemovedFlowError(flow.name, flow.file, 'running');
    const progress = options.onProgress;
    const jobId = await this.runtime.runFlow(
      flow.id,
      this.ws.operator(),
      progress ? (id) => progress(this.jobOf(this.store.getJob(id)!)) : undefined,
    );
    return this.jobDetail(this.store.getJob(jobId)!);
  }

  // ---- jobs -----------------------------------------------------------------------------------

  jobOf(row: JobRow): Job {
    const step = row.step !== null ? this.store.step(row.step) : undefined;
    const parent = row.parentId !== null ? this.store.getJob(row.parentId) : undefined;
    let counts = row.parentId !== null && row.step !== null ? this.store.jobErrorCounts(row.parentId, row.step) : this.store.jobErrorCounts(row.id);
    // A retry job resolves errors of earlier jobs: its numResolved counts the records it cleared.
    if (row.type === 'retry') counts = { open: counts.open, resolved: new RetryRepo(this.store).counts(row.id).resolved };
    return toJob(row, { counts, step, parent });
  }

  private jobDetail(row: JobRow): JobDetail {
    const detail: JobDetail = { ...this.jobOf(row), children: this.store.childJobs(row.id).map((c) => this.jobOf(c)) };
    if (row.note) detail.note = row.note;
    return detail;
  }

  async listJobs(params: JobListParams = {}): Promise<Job[]> {
    const flowId = params.flowRef ? this.resolveFlow(params.flowRef).id : undefined;
    const limit = clampLimit(params.limit ?? 50);
    const beforeId = params.before !== undefined ? this.resolveJob(params.before).id : undefined;
    return this.store
      .listJobs({ flowId, type: params.type, status: params.status, triggeredBy: params.triggeredBy, beforeId, topLevel: true, limit })
      .map((r): JobListEntry => (r.note ? { ...this.jobOf(r), note: r.note } : this.jobOf(r)));
  }

  async keepAutomaticRetries(): Promise<AutomaticRetries> {
    const { ensureWorker, workerAlive } = await import('../runtime/worker.js');
    const due = new RetryRepo(this.store).countDue(Date.now());
    if (this.ws.env.FLOWDECK_WORKER === 'off') return { due, worker: 'off' };
    if (workerAlive(this.ws)) return { due, worker: 'running' };
    const queued = this.store.activeJobs().some((j) => j.type === 'retry' && j.status === 'queued');
    if (due === 0 && !queued) return { due, worker: 'idle' };
    ensureWorker(this.ws);
    return { due, worker: 'started' };
  }

  async getJob(jobId: string): Promise<JobDetail> {
    return this.jobDetail(this.resolveJob(jobId));
  }

  // ---- errors ---------------------------------------------------------------------------------

  async flowErrors(flowRef: string): Promise<FlowErrorsResponse> {
    const flow = this.resolveFlow(flowRef);
    return {
      flowErrors: this.store
        .steps(flow.id)
        .filter((s) => s.position < 1000)
        .map((s) => {
          const stats = this.store.stepErrorStats(s.key);
          const entry: FlowErrorsResponse['flowErrors'][number] = { _expOrImpId: s.stepId, numError: stats.open };
          if (stats.open > 0 && stats.lastErrorAt !== null) entry.lastErrorAt = iso(stats.lastErrorAt);
          return entry;
        }),
    };
  }

  /**
   * One body-paginated page of a step's open or resolved errors, newest first. One row more than
   * asked tells whether another page exists without counting; the cursor is the last errorId.
   */
  pageOfErrors(flowRef: string, stepRef: string, params: ErrorListParams, resolved: boolean): { rows: ErrorRow[]; nextPageURL?: string } {
    const flow = this.resolveFlow(flowRef);
    const step = this.resolveStep(flow, stepRef);
    const limit = clampLimit(params.limit ?? DEFAULT_PAGE_SIZE);
    const query = parseQuery(params.query ?? '');
    const cursor = (name: 'before' | 'after'): number | undefined => {
      const value = params[name];
      if (!value) return undefined;
      const decoded = decodeId('error', value);
      if (!decoded) throw new InvalidInputError(`"${value}" is not an error id`, name);
      return decoded.rowId;
    };
    const ascending = params.order === 'asc';
    if (params.order !== undefined && params.order !== 'asc' && params.order !== 'desc') {
      throw new InvalidInputError(`order must be asc or desc, got "${String(params.order)}"`, 'order');
    }
    const range = ascending ? { fromId: (cursor('after') ?? 0) + 1 } : { beforeId: cursor('before') };
    const rows = this.store.listErrors({ step: step.key, resolved, terms: query.terms, limit: limit + 1, ...range }, this.queryContext());
    const page = rows.slice(0, limit);
    if (rows.length <= limit) return { rows: page };
    const last = errorIdOf(page[page.length - 1]!);
    const search = new URLSearchParams(ascending ? { pageSize: String(limit), order: 'asc', after: last } : { pageSize: String(limit), before: last });
    if (params.query) search.set('q', params.query);
    return { rows: page, nextPageURL: `/v1/flows/${flow.id}/${step.stepId}/${resolved ? 'resolved' : 'errors'}?${search.toString()}` };
  }

  async listErrors(flowRef: string, stepRef: string, params: ErrorListParams = {}): Promise<FlowStepErrorsResponse> {
    const { rows, nextPageURL } = this.pageOfErrors(flowRef, stepRef, params, false);
    const namer = this.tagNamer();
    const response: FlowStepErrorsResponse = { errors: rows.map((r) => toFlowStepError(r, namer)) };
    if (nextPageURL) response.nextPageURL = nextPageURL;
    return response;
  }

  async errorFacets(flowRef: string, stepRef: string, field: FacetField): Promise<Facet[]> {
    const flow = this.resolveFlow(flowRef);
    return this.store.stepErrorFacets(this.resolveStep(flow, stepRef).key, field);
  }

  async countErrors(flowRef: string, stepRef: string, params: ErrorCountParams = {}): Promise<number> {
    const step = this.resolveStep(this.resolveFlow(flowRef), stepRef);
    return this.store.countErrors({ step: step.key, resolved: params.resolved === true, terms: parseQuery(params.query ?? '').terms }, this.queryContext());
  }

  async errorGroups(flowRef: string, stepRef: string | undefined, params: ErrorGroupParams = {}): Promise<ErrorGroupsResponse> {
    return errorGroups(this, flowRef, stepRef, params);
  }

  async filterMetadata(): Promise<ErrorsFilterMetadataResponse> {
    return filterMetadata();
  }

  async close(): Promise<void> {
    await this.runtimeValue?.close();
    this.ws.close();
  }
}

/** The names a mistyped reference could have meant, quoted, for a not-found message. */
function namesHint(names: string[]): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, 8).map((n) => `"${n}"`).join(', ');
  return names.length > 8 ? `${shown}, …` : shown;
}

function unique<T>(items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}

export function clampLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidInputError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${limit}`, 'limit');
  }
  return limit;
}
