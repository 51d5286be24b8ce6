import { setTimeout as sleep } from 'node:timers/promises';
import { jobProgressKey, TERMINAL_JOB_STATUSES, type ErrorsFilterMetadataResponse, type FlowErrorsResponse, type FlowStepErrorsResponse, type Job } from '../domain/api.js';
import { InvalidInputError, NotFoundError, RemovedFlowError } from '../domain/errors.js';
import { filterMetadata } from '../domain/filter-metadata.js';
import { decodeId, idMatchesTime } from '../domain/ids.js';
import { hasWildcard, parseQuery, wildcardToLike } from '../domain/query.js';
import { Runtime } from '../runtime/runtime.js';
import { RecordsService } from './records.js';
import { RetryService } from './retry.js';
import type { QueryContext } from '../store/contract/queries.js';
import type { StorePorts } from '../store/contract/ports.js';
import type { Store } from '../store/contract/store.js';
import type { ErrorRow, FlowRow, JobRow, StepRow } from '../store/contract/rows.js';
import type { Workspace } from '../workspace/workspace.js';
import { errorGroups } from './groups.js';
import { errorIdOf, iso, jobIdOf, toFlowStepError, toJob } from './shapes.js';
import { TriageService } from './triage.js';
import { MAX_JOB_WAIT_MS } from './contract/limits.js';
import type { AutomaticRetries, Backend, GetJobOptions, WhoAmI, ErrorCountParams, ErrorGroupParams, ErrorGroupsResponse, ErrorListParams, Facet, FacetField, FlowInfo, JobDetail, JobListEntry, JobListParams, StepInfo } from './contract/index.js';
import { matchRef, namesHint } from './refs.js';

// The backend over a local workspace: its store (the contract's ports) plus the embedded runtime in this process.

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** How often a getJob long-poll looks (it waits at most MAX_JOB_WAIT_MS of the contract). */
const JOB_POLL_MS = 100;


/** What the backends of one workspace share, whoever they act as: the runtime and the runs in flight here. */
interface LocalShared {
  runtime?: Runtime;
  /** Flow runs and retry jobs this process runs, by job row id: close() lets them finish (runs) or hands them over (retries). */
  running: Map<number, Promise<unknown>>;
  /** Listing pages as last answered, with the store's change stamp they were read at. */
  pages: Map<string, { stamp: string; response: FlowStepErrorsResponse }>;
}

/** Pages kept for answering the same listing again while nothing changed (a team polling one step). */
const PAGE_CACHE_SIZE = 64;

export class LocalBackend implements Backend {
  private readonly shared: LocalShared;

  /**
   * @param actor who acts: the workspace's operator (config.json user.email) when absent; a server
   * makes one per user with actingAs().
   */
  constructor(
    readonly ws: Workspace,
    private readonly actor?: string,
    shared?: LocalShared,
  ) {
    this.shared = shared ?? { running: new Map(), pages: new Map() };
  }

  /** The same workspace and runtime, acting as someone else (a server's per-request user). Closing it closes nothing. */
  actingAs(email: string): LocalBackend {
    const view = new LocalBackend(this.ws, email, this.shared);
    view.owner = false;
    return view;
  }

  private owner = true;

  /** Who acts: recorded as assignedBy, resolvedBy, triggeredBy and in the audit; `me` in queries. */
  get operator(): string {
    return this.actor ?? this.ws.operator();
  }

  get runtime(): Runtime {
    this.shared.runtime ??= new Runtime(this.ws);
    return this.shared.runtime;
  }

  async whoami(): Promise<WhoAmI> {
    return { email: this.operator, location: 'local' };
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

  /** The workspace's store; methods that also run inside a unit of work take its `tx` as `ports`. */
  get store(): Store {
    return this.ws.store;
  }

  // ---- references -----------------------------------------------------------------------------

  async resolveFlow(ref: string, ports: StorePorts = this.store): Promise<FlowRow> {
    const flows = await ports.catalog.listFlows();
    const found = matchRef(flows, ref, (f) => f);
    if (!found) throw new NotFoundError('flow', `${ref} (flows: ${namesHint(flows.filter((f) => !f.removed).map((f) => f.name))})`);
    return found;
  }

  async resolveStep(flow: FlowRow, ref: string, ports: StorePorts = this.store): Promise<StepRow> {
    const steps = await ports.catalog.steps(flow.id);
    const found = matchRef(steps, ref, (s) => ({ id: s.stepId, name: s.name }));
    if (!found) throw new NotFoundError(`step of flow "${flow.name}"`, `${ref} (steps: ${namesHint(steps.filter((x) => x.position < 1000).map((x) => x.name))})`);
    return found;
  }

  async resolveJob(id: string, ports: StorePorts = this.store): Promise<JobRow> {
    const decoded = decodeId('job', id);
    const row = decoded ? await ports.jobs.getJob(decoded.rowId) : undefined;
    if (!row || !decoded || !idMatchesTime(decoded, row.createdAt)) throw new NotFoundError('job', id);
    return row;
  }

  async queryContext(ports: StorePorts = this.store): Promise<QueryContext> {
    const catalog = await ports.triage.tagCatalog();
    const backend = this;
    return {
      // Read only by `assignee:me`: who the operator is comes from config.json, not needed otherwise.
      get me() {
        return backend.operator;
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

  async tagNamer(): Promise<(code: string) => string> {
    const names = new Map((await this.store.triage.tagCatalog()).map((t) => [t.code, t.name]));
    return (code) => names.get(code) ?? code;
  }

  // ---- flows ----------------------------------------------------------------------------------

  private async flowInfo(flow: FlowRow): Promise<FlowInfo> {
    const steps: StepInfo[] = [];
    for (const s of (await this.store.catalog.steps(flow.id)).filter((x) => x.position < 1000)) {
      const stats = await this.store.errors.stepErrorStats(s.key);
      const info: StepInfo = { _id: s.stepId, name: s.name, type: s.kind, position: s.position, numOpenError: stats.open };
      if (stats.lastErrorAt !== null) info.lastErrorAt = iso(stats.lastErrorAt);
      steps.push(info);
    }
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
    const [last] = await this.store.jobs.listJobs({ flowId: flow.id, type: 'flow', limit: 1 });
    if (last) {
      info.lastJob = { _id: jobIdOf(last), status: last.status };
      if (last.startedAt !== null) info.lastJob.startedAt = iso(last.startedAt);
      if (last.endedAt !== null) info.lastJob.endedAt = iso(last.endedAt);
    }
    return info;
  }

  async listFlows(): Promise<FlowInfo[]> {
    // A flow gone from the files stays listed, marked, while it has open errors: they are still to triage.
    const flows: FlowInfo[] = [];
    for (const f of await this.store.catalog.listFlows()) flows.push(await this.flowInfo(f));
    return flows.filter((f) => !f.removed || f.numOpenError > 0);
  }

  async getFlow(flowRef: string): Promise<FlowInfo> {
    return this.flowInfo(await this.resolveFlow(flowRef));
  }

  async runFlow(flowRef: string): Promise<JobDetail> {
    const flow = await this.resolveFlow(flowRef);
    if (flow.removed) throw new RemovedFlowError(flow.name, flow.file, 'running');
    // The run goes on in this process after the job is answered; close() waits for it. What
    // fails before the job exists (a disabled flow, a bad catalog) rejects here.
    let jobId: number | undefined;
    let settled: Promise<void> | undefined;
    const id = await new Promise<number>((resolve, reject) => {
      const run = this.runtime.runFlow(flow.id, this.operator, undefined, (queued) => {
        jobId = queued;
        // Tracked before anything can settle it, so a run that ends at once leaves no entry behind.
        this.shared.running.set(queued, Promise.resolve().then(() => settled));
        resolve(queued);
      });
      settled = run.then(
        () => {
          if (jobId !== undefined) this.shared.running.delete(jobId);
        },
        (error: unknown) => {
          if (jobId === undefined) reject(error);
          else return this.settleFailedRun(jobId, error);
        },
      );
    });
    // Recorded as soon as the job exists, like every other change an operator makes.
    const row = (await this.store.jobs.getJob(id))!;
    await this.store.auditLog.audit({ at: row.createdAt, actor: this.operator, action: 'run_flow', flowId: flow.id, count: 1, detail: { job: jobIdOf(row) } });
    return this.jobDetail(row);
  }

  /** A run that threw after its job existed: the job says so instead of staying "running" for ever. */
  private async settleFailedRun(jobId: number, error: unknown): Promise<void> {
    try {
      const row = await this.store.jobs.getJob(jobId);
      if (!row || TERMINAL_JOB_STATUSES.includes(row.status)) return;
      const now = Date.now();
      await this.store.jobs.updateJob(jobId, { status: 'failed', endedAt: now, note: error instanceof Error ? error.message : String(error) }, now);
    } finally {
      // Still tracked while it writes, so close() does not close the store under it.
      this.shared.running.delete(jobId);
    }
  }

  // ---- jobs -----------------------------------------------------------------------------------

  async jobOf(row: JobRow, ports: StorePorts = this.store): Promise<Job> {
    const step = row.step !== null ? await ports.catalog.step(row.step) : undefined;
    const parent = row.parentId !== null ? await ports.jobs.getJob(row.parentId) : undefined;
    let counts = row.parentId !== null && row.step !== null ? await ports.jobs.jobErrorCounts(row.parentId, row.step) : await ports.jobs.jobErrorCounts(row.id);
    // A retry job resolves errors of earlier jobs: its numResolved counts the records it cleared.
    if (row.type === 'retry') counts = { open: counts.open, resolved: (await ports.retries.counts(row.id)).resolved };
    return toJob(row, { counts, step, parent });
  }

  private async jobDetail(row: JobRow): Promise<JobDetail> {
    const children: Job[] = [];
    for (const c of await this.store.jobs.childJobs(row.id)) children.push(await this.jobOf(c));
    const detail: JobDetail = { ...(await this.jobOf(row)), children };
    if (row.note) detail.note = row.note;
    return detail;
  }

  async listJobs(params: JobListParams = {}): Promise<JobListEntry[]> {
    const triggeredBy = params.triggeredBy?.toLowerCase() === 'me' ? this.operator : params.triggeredBy;
    const flowId = params.flowRef ? (await this.resolveFlow(params.flowRef)).id : undefined;
    const limit = clampLimit(params.limit ?? 50);
    const beforeId = params.before !== undefined ? (await this.resolveJob(params.before)).id : undefined;
    const entries: JobListEntry[] = [];
    for (const r of await this.store.jobs.listJobs({ flowId, type: params.type, status: params.status, triggeredBy, beforeId, topLevel: true, limit })) {
      const job = await this.jobOf(r);
      entries.push(r.note ? { ...job, note: r.note } : job);
    }
    return entries;
  }

  async keepAutomaticRetries(): Promise<AutomaticRetries> {
    const { ensureWorker, workerAlive } = await import('../runtime/worker.js');
    const due = await this.store.retries.countDue(Date.now());
    if (this.ws.env.FLOWDECK_WORKER === 'off') return { due, worker: 'off' };
    if (await workerAlive(this.ws)) return { due, worker: 'running' };
    const queued = (await this.store.jobs.activeJobs()).some((j) => j.type === 'retry' && j.status === 'queued');
    if (due === 0 && !queued) return { due, worker: 'idle' };
    await ensureWorker(this.ws);
    return { due, worker: 'started' };
  }

  async getJob(jobId: string, options: GetJobOptions = {}): Promise<JobDetail> {
    const row = await this.resolveJob(jobId);
    const waitMs = Math.min(Math.max(0, options.waitMs ?? 0), MAX_JOB_WAIT_MS);
    if (waitMs === 0 || TERMINAL_JOB_STATUSES.includes(row.status)) return this.jobDetail(row);
    // Someone waits on a queued retry job: a worker runs it (one is started when none is alive),
    // or, with FLOWDECK_WORKER=off (no background processes), the waiting process runs it itself.
    if (row.type === 'retry' && row.status === 'queued') {
      if (this.ws.env.FLOWDECK_WORKER === 'off') this.runRetryHere(row.id);
      else await (await import('../runtime/worker.js')).ensureWorker(this.ws);
    }
    const seen = jobProgressKey(await this.jobOf(row));
    const deadline = Date.now() + waitMs;
    const { signal } = options;
    for (;;) {
      // Aborted: no more polls (the store may be closing next), one last read answers.
      await sleep(Math.min(JOB_POLL_MS, Math.max(0, deadline - Date.now())), undefined, { signal }).catch(() => undefined);
      const now = (await this.store.jobs.getJob(row.id))!;
      if (signal?.aborted || Date.now() >= deadline || TERMINAL_JOB_STATUSES.includes(now.status) || jobProgressKey(await this.jobOf(now)) !== seen) return this.jobDetail(now);
    }
  }

  /** Claims and runs a queued retry job in this process (once); a process that claimed it first keeps it. */
  private runRetryHere(jobRowId: number): void {
    if (this.shared.running.has(jobRowId)) return;
    const run = this.runtime.runRetryJob(jobRowId).then(
      () => this.shared.running.delete(jobRowId),
      (error: unknown) => this.settleFailedRun(jobRowId, error),
    );
    this.shared.running.set(jobRowId, run);
  }

  // ---- errors ---------------------------------------------------------------------------------

  async flowErrors(flowRef: string): Promise<FlowErrorsResponse> {
    const flow = await this.resolveFlow(flowRef);
    const flowErrors: FlowErrorsResponse['flowErrors'] = [];
    for (const s of (await this.store.catalog.steps(flow.id)).filter((x) => x.position < 1000)) {
      const stats = await this.store.errors.stepErrorStats(s.key);
      const entry: FlowErrorsResponse['flowErrors'][number] = { _expOrImpId: s.stepId, numError: stats.open };
      if (stats.open > 0 && stats.lastErrorAt !== null) entry.lastErrorAt = iso(stats.lastErrorAt);
      flowErrors.push(entry);
    }
    return { flowErrors };
  }

  /**
   * One body-paginated page of a step's open or resolved errors, newest first. One row more than
   * asked tells whether another page exists without counting; the cursor is the last errorId.
   */
  async pageOfErrors(flowRef: string, stepRef: string, params: ErrorListParams, resolved: boolean): Promise<{ rows: ErrorRow[]; nextPageURL?: string }> {
    const flow = await this.resolveFlow(flowRef);
    const step = await this.resolveStep(flow, stepRef);
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
    const rows = await this.store.errors.listErrors({ step: step.key, resolved, terms: query.terms, limit: limit + 1, ...range }, await this.queryContext());
    const page = rows.slice(0, limit);
    if (rows.length <= limit) return { rows: page };
    const last = errorIdOf(page[page.length - 1]!);
    const search = new URLSearchParams(ascending ? { pageSize: String(limit), order: 'asc', after: last } : { pageSize: String(limit), before: last });
    if (params.query) search.set('q', params.query);
    return { rows: page, nextPageURL: `/v1/flows/${flow.id}/${step.stepId}/${resolved ? 'resolved' : 'errors'}?${search.toString()}` };
  }

  async listErrors(flowRef: string, stepRef: string, params: ErrorListParams = {}): Promise<FlowStepErrorsResponse> {
    // The same page asked again while the store has not changed is answered as it was (many
    // operators, or one TUI refreshing, watching one step); a page that depends on the time or on
    // who asks (since:, until:, assignee:me) is always read anew.
    const key = cacheablePage(params) ? JSON.stringify([flowRef.toLowerCase(), stepRef.toLowerCase(), params.query ?? '', params.limit, params.before, params.order, params.after]) : undefined;
    const stamp = key !== undefined ? await this.store.changeStamp() : '';
    const kept = key !== undefined ? this.shared.pages.get(key) : undefined;
    if (kept && kept.stamp === stamp) return kept.response;
    const { rows, nextPageURL } = await this.pageOfErrors(flowRef, stepRef, params, false);
    const namer = await this.tagNamer();
    const response: FlowStepErrorsResponse = { errors: rows.map((r) => toFlowStepError(r, namer)) };
    if (nextPageURL) response.nextPageURL = nextPageURL;
    if (key !== undefined) {
      this.shared.pages.delete(key);
      this.shared.pages.set(key, { stamp, response: deepFreeze(response) });
      if (this.shared.pages.size > PAGE_CACHE_SIZE) this.shared.pages.delete(this.shared.pages.keys().next().value!);
    }
    return response;
  }

  async errorFacets(flowRef: string, stepRef: string, field: FacetField): Promise<Facet[]> {
    const flow = await this.resolveFlow(flowRef);
    return this.store.errors.stepErrorFacets((await this.resolveStep(flow, stepRef)).key, field);
  }

  async countErrors(flowRef: string, stepRef: string, params: ErrorCountParams = {}): Promise<number> {
    const step = await this.resolveStep(await this.resolveFlow(flowRef), stepRef);
    return this.store.errors.countErrors({ step: step.key, resolved: params.resolved === true, terms: parseQuery(params.query ?? '').terms }, await this.queryContext());
  }

  async errorGroups(flowRef: string, stepRef: string | undefined, params: ErrorGroupParams = {}): Promise<ErrorGroupsResponse> {
    return errorGroups(this, flowRef, stepRef, params);
  }

  async filterMetadata(): Promise<ErrorsFilterMetadataResponse> {
    return filterMetadata();
  }

  async close(): Promise<void> {
    if (!this.owner) return;
    // Runs started here finish first: a flow run cannot resume elsewhere (nor, with
    // FLOWDECK_WORKER=off, can a retry job that a waiting command runs).
    while (this.shared.running.size > 0) await Promise.all([...this.shared.running.values()]);
    await this.shared.runtime?.close();
    await this.ws.close();
  }
}

/** A listing that reads the same whoever asks and whenever: no relative time, no `me`. */
function cacheablePage(params: ErrorListParams): boolean {
  const text = params.query ?? '';
  if (text === '') return true;
  return !parseQuery(text).terms.some((t) => t.kind === 'field' && (t.field === 'since' || t.field === 'until' || (t.field === 'assignee' && t.value.toLowerCase() === 'me')));
}

/** A kept answer is shared by every later caller: none may change it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}


export function clampLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidInputError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${limit}`, 'limit');
  }
  return limit;
}
