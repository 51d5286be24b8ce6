import type { ErrorsFilterMetadataResponse, FlowErrorsResponse, FlowStepError, FlowStepErrorsResponse, FlowStepResolvedResponse, Job } from '../../domain/api.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../domain/errors.js';
import { matchRef, namesHint } from '../refs.js';
import { pathOf, ROUTES, type Route } from '../wire/routes.js';
import { clientPredicate } from './client-query.js';
import { HttpClient, type HttpOptions } from './http.js';
import { RemoteRecords } from './remote-records.js';
import { RemoteRetries } from './remote-retry.js';
import { notAvailable, RemoteHttpError } from './remote-errors.js';
import { RemoteTriage } from './remote-triage.js';
import { MAX_CLIENT_SELECTION, walkErrors } from './remote-selection.js';
import { nextLink, toFlowInfo, type SpecFlow } from './spec-flows.js';
import type { AutomaticRetries, Backend, WhoAmI, ErrorCountParams, ErrorGroupParams, ErrorGroupsResponse, ErrorListParams, Facet, FacetField, FlowInfo, JobDetail, JobListEntry, JobListParams, StepInfo } from '../contract/index.js';
import { MAX_JOB_WAIT_MS } from '../contract/limits.js';

// The Backend over HTTP: a `flowdeck serve`, or any server of the spec (the platform's own API
// with a personal token). `whoami`, a flowdeck extension, tells them apart once per backend: on a
// flowdeck server every operation has its route; on a plain spec server the spec's routes are used
// (selections resolved to explicit ids here), and what only flowdeck offers says so plainly.
//
// References are resolved here to ids, with the local backend's matching rules (src/backend/refs.ts),
// against the server's flow list, cached per backend and fetched again when a reference misses.

export interface RemoteBackendOptions extends HttpOptions {
  /** The server, e.g. http://host:7700 (a path prefix is kept). */
  url: string;
}

export interface ServerInfo {
  /** A flowdeck server (it has the extensions), or a plain server of the spec. */
  flowdeck: boolean;
  /** The token's user, as a flowdeck server reports it. */
  email?: string;
}

/** A resolved flow and step: the ids the routes take. */
export interface StepRef {
  flow: FlowInfo;
  step: StepInfo;
}

/** How many errors counting by paging reads on a plain spec server before it gives up. */
export const MAX_CLIENT_COUNT = 100_000;
/** The largest page a listing gives (the local backend's MAX_PAGE_SIZE). */
const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 100;

export class RemoteBackend implements Backend {
  readonly http: HttpClient;
  readonly retries: RemoteRetries;
  readonly triage: RemoteTriage;
  readonly records: RemoteRecords;
  private serverInfo: Promise<ServerInfo> | undefined;
  private flows: FlowInfo[] | undefined;
  private flowsLoading: Promise<FlowInfo[]> | undefined;
  /** On a plain spec server, the nextPageURL that follows each page, by the page's last errorId. */
  private readonly cursors = new Map<string, string>();

  constructor(options: RemoteBackendOptions) {
    this.http = new HttpClient(options.url, options);
    this.retries = new RemoteRetries(this);
    this.triage = new RemoteTriage(this);
    this.records = new RemoteRecords(this);
  }

  /** The server's URL as messages show it (no credentials). */
  get url(): string {
    return this.http.url;
  }

  // ---- the server -----------------------------------------------------------------------------

  server(): Promise<ServerInfo> {
    this.serverInfo ??= this.http.call<{ email?: string }>(ROUTES.whoami).then(
      (answer): ServerInfo => ({ flowdeck: true, ...(answer.body?.email ? { email: answer.body.email } : {}) }),
      (e: unknown): ServerInfo => {
        // No such route: a server of the spec without flowdeck's extensions.
        if (e instanceof NotFoundError || (e instanceof RemoteHttpError && e.status === 405)) return { flowdeck: false };
        this.serverInfo = undefined;
        throw e;
      },
    );
    return this.serverInfo;
  }

  /** Refuses, naming the operation, when the server has no flowdeck extensions. */
  async requireFlowdeck(operation: string): Promise<void> {
    if (!(await this.server()).flowdeck) throw notAvailable(operation, this.url);
  }

  /** Who the token belongs to. */
  async whoami(): Promise<WhoAmI> {
    const server = await this.server();
    // A plain server of the spec does not say whose token it is: the header just says so.
    if (!server.flowdeck) return { email: 'the token’s user', location: this.url };
    if (!server.email) throw new RemoteHttpError(`${this.url} did not say whose token this is`, 502, 'bad_response');
    return { email: server.email, location: this.url };
  }

  /** `me` as the acting user's email; any other text as it is. */
  async emailOf(email: string): Promise<string> {
    if (email.trim().toLowerCase() !== 'me') return email;
    const server = await this.server();
    if (!server.flowdeck || !server.email) throw notAvailable('assigning to "me"', this.url);
    return server.email;
  }

  // ---- references -----------------------------------------------------------------------------

  async flowOf(ref: string): Promise<FlowInfo> {
    const fresh = this.flows === undefined;
    let found = matchRef(await this.cachedFlows(), ref, (f) => ({ id: f._id, name: f.name }));
    if (!found && !fresh) found = matchRef(await this.listFlows(), ref, (f) => ({ id: f._id, name: f.name }));
    if (!found) throw new NotFoundError('flow', `${ref} (flows: ${namesHint((this.flows ?? []).filter((f) => !f.removed).map((f) => f.name))})`);
    return found;
  }

  async stepOf(flowRef: string, stepRef: string): Promise<StepRef> {
    let flow = await this.flowOf(flowRef);
    let step = matchRef(flow.steps, stepRef, (s) => ({ id: s._id, name: s.name }));
    if (!step) {
      // A step added on the server since the list was read.
      await this.listFlows();
      flow = await this.flowOf(flow._id);
      step = matchRef(flow.steps, stepRef, (s) => ({ id: s._id, name: s.name }));
    }
    if (!step) throw new NotFoundError(`step of flow "${flow.name}"`, `${stepRef} (steps: ${namesHint(flow.steps.map((s) => s.name))})`);
    return { flow, step };
  }

  /** The cached flow list; callers arriving together (a TUI's first screen) share one fetch. */
  private cachedFlows(): Promise<FlowInfo[]> {
    if (this.flows) return Promise.resolve(this.flows);
    this.flowsLoading ??= this.listFlows().finally(() => {
      this.flowsLoading = undefined;
    });
    return this.flowsLoading;
  }

  // ---- flows ----------------------------------------------------------------------------------

  async listFlows(): Promise<FlowInfo[]> {
    const raw: SpecFlow[] = [];
    let answer = await this.http.call<SpecFlow[]>(ROUTES.listFlows);
    for (let pages = 0; ; pages++) {
      raw.push(...(Array.isArray(answer.body) ? answer.body : []));
      const next = nextLink(answer.headers.link);
      if (!next || pages > 1000) break;
      answer = await this.http.follow<SpecFlow[]>(next);
    }
    const flows = await mapLimit(raw, 8, async (f) => toFlowInfo(f, await this.stepCounts(f)));
    this.flows = flows;
    return flows;
  }

  async getFlow(flowRef: string): Promise<FlowInfo> {
    const { _id } = await this.flowOf(flowRef);
    const raw = (await this.http.call<SpecFlow>(ROUTES.getFlow, { path: { _id } })).body;
    if (!raw) throw new RemoteHttpError(`${this.url} answered no flow for ${_id}`, 502, 'bad_response');
    const info = toFlowInfo(raw, await this.stepCounts(raw));
    this.flows = (this.flows ?? []).map((f) => (f._id === info._id ? info : f));
    return info;
  }

  /** A spec flow's per-step error counts (a flowdeck server's flows carry them already). */
  private async stepCounts(raw: SpecFlow): Promise<FlowErrorsResponse | undefined> {
    if (Array.isArray(raw.steps)) return undefined;
    return (await this.http.call<FlowErrorsResponse>(ROUTES.flowErrors, { path: { _id: raw._id } })).body;
  }

  /** Starts a run of the flow; answers the started job at once (follow it with followJob). */
  async runFlow(flowRef: string): Promise<JobDetail> {
    const { _id } = await this.flowOf(flowRef);
    const body = (await this.http.call<unknown>(ROUTES.runFlow, { path: { _id }, body: {} })).body;
    return runAnswer(body, _id, this.url);
  }

  // ---- jobs -----------------------------------------------------------------------------------

  async listJobs(params: JobListParams = {}): Promise<JobListEntry[]> {
    await this.requireFlowdeck('jobs list');
    const flowId = params.flowRef !== undefined ? (await this.flowOf(params.flowRef))._id : undefined;
    const { body } = await this.http.call<JobListEntry[] | { jobs: JobListEntry[] }>(ROUTES.listJobs, {
      query: { flowId, type: params.type, status: params.status, triggeredBy: params.triggeredBy, limit: params.limit, before: params.before },
    });
    return Array.isArray(body) ? body : (body?.jobs ?? []);
  }

  /** With `waitMs`, a long-poll: the server answers when the job changed or the time is up. */
  async getJob(jobId: string, options: { waitMs?: number } = {}): Promise<JobDetail> {
    await this.requireFlowdeck('jobs show');
    const waitMs = options.waitMs !== undefined && options.waitMs > 0 ? Math.min(Math.round(options.waitMs), MAX_JOB_WAIT_MS) : undefined;
    const { body } = await this.http.call<JobDetail>(ROUTES.getJob, {
      path: { jobId },
      query: { waitMs },
      // The server holds a long-poll for up to waitMs: the request may take that long and more.
      ...(waitMs !== undefined ? { timeoutMs: waitMs + this.http.requestTimeoutMs } : {}),
    });
    if (!body) throw new RemoteHttpError(`${this.url} answered no job for ${jobId}`, 502, 'bad_response');
    return { ...body, children: body.children ?? [] };
  }

  async keepAutomaticRetries(): Promise<AutomaticRetries> {
    // A plain spec server schedules its automatic retries itself: nothing for the client to start.
    if (!(await this.server()).flowdeck) return { due: 0, worker: 'running' };
    const { body } = await this.http.call<AutomaticRetries>(ROUTES.keepAutomaticRetries, { body: {} });
    return body ?? { due: 0, worker: 'running' };
  }

  // ---- errors ---------------------------------------------------------------------------------

  async flowErrors(flowRef: string): Promise<FlowErrorsResponse> {
    const { _id } = await this.flowOf(flowRef);
    return (await this.http.call<FlowErrorsResponse>(ROUTES.flowErrors, { path: { _id } })).body ?? { flowErrors: [] };
  }

  async listErrors(flowRef: string, stepRef: string, params: ErrorListParams = {}): Promise<FlowStepErrorsResponse> {
    const ref = await this.stepOf(flowRef, stepRef);
    const body = await this.pageOf<FlowStepErrorsResponse>(ROUTES.listErrors, ref, params, 'errors');
    return withPage({ errors: body?.errors ?? [] }, body?.nextPageURL);
  }

  async listResolved(flowRef: string, stepRef: string, params: ErrorListParams = {}): Promise<FlowStepResolvedResponse> {
    const ref = await this.stepOf(flowRef, stepRef);
    const body = await this.pageOf<FlowStepResolvedResponse>(ROUTES.listResolved, ref, params, 'resolved');
    return withPage({ resolved: body?.resolved ?? [] }, body?.nextPageURL);
  }

  /**
   * One page of a listing. A flowdeck server takes the Backend's params as query parameters. A
   * plain spec server pages only by the nextPageURLs it hands out: `before` continues from the
   * page that ended with that errorId, as this backend listed it.
   */
  private async pageOf<T extends { nextPageURL?: string | null }>(route: Route, ref: StepRef, params: ErrorListParams, listing: 'errors' | 'resolved'): Promise<T | undefined> {
    const path = { _id: ref.flow._id, _stepId: ref.step._id };
    if (params.limit !== undefined) checkLimit(params.limit);
    if ((await this.server()).flowdeck) {
      const query = { q: params.query?.trim() || undefined, pageSize: params.limit, before: params.before, order: params.order, after: params.after };
      return (await this.http.call<T>(route, { path, query })).body;
    }
    if (params.order === 'asc' || params.after !== undefined) throw notAvailable('oldest-first listing', this.url);
    if (params.query?.trim()) return this.filteredPage<T>(route, ref, params, listing);
    const key = (errorId: string) => `${listing}:${path._id}:${path._stepId}:${errorId}`;
    let body: T | undefined;
    if (params.before !== undefined) {
      const next = this.cursors.get(key(params.before));
      if (!next) throw new InvalidInputError(`${this.url} pages by its own nextPageURLs: continue from a page listed by this session (no page ended at ${params.before})`, 'before');
      body = (await this.http.follow<T>(next)).body;
    } else {
      body = (await this.http.call<T>(route, { path, query: { pageSize: params.limit } })).body;
    }
    const rows = ((body as Record<string, unknown> | undefined)?.[listing] ?? []) as Array<{ errorId: string }>;
    const last = rows[rows.length - 1];
    if (body?.nextPageURL && last) this.cursors.set(key(last.errorId), body.nextPageURL);
    return body;
  }

  /**
   * A page of a listing filtered on the client (a plain spec server's listing cannot filter): the
   * listing is read from its start, errors from `before` on matched, `limit` of them kept; the
   * nextPageURL is this listing's path with `before` and `q`, which the next call reads back.
   */
  private async filteredPage<T>(route: Route, ref: StepRef, params: ErrorListParams, listing: 'errors' | 'resolved'): Promise<T> {
    const matches = clientPredicate(params.query, this.url)!;
    const limit = params.limit ?? DEFAULT_PAGE_SIZE;
    const before = params.before?.toLowerCase();
    const rows: FlowStepError[] = [];
    let read = 0;
    let more = false;
    await walkErrors(this, ref, listing === 'errors' ? 'open' : 'resolved', (e) => {
      if (++read > MAX_CLIENT_SELECTION) throw notAvailable(`filtering more than ${MAX_CLIENT_SELECTION.toLocaleString('en-US')} errors`, this.url);
      if (before !== undefined && e.errorId.toLowerCase() >= before) return true;
      if (!matches(e)) return true;
      if (rows.length === limit) {
        more = true;
        return false;
      }
      rows.push(e);
      return true;
    });
    const body: Record<string, unknown> = { [listing]: rows };
    const last = rows[rows.length - 1];
    if (more && last) {
      const search = new URLSearchParams({ pageSize: String(limit), before: last.errorId, q: params.query!.trim() });
      body.nextPageURL = `${pathOf(route, { _id: ref.flow._id, _stepId: ref.step._id })}?${search.toString()}`;
    }
    return body as T;
  }

  async filterMetadata(): Promise<ErrorsFilterMetadataResponse> {
    return (await this.http.call<ErrorsFilterMetadataResponse>(ROUTES.filterMetadata)).body ?? { filters: [] };
  }

  async errorFacets(flowRef: string, stepRef: string, field: FacetField): Promise<Facet[]> {
    await this.requireFlowdeck('error facets');
    const { flow, step } = await this.stepOf(flowRef, stepRef);
    const { body } = await this.http.call<Facet[] | { facets: Facet[] }>(ROUTES.errorFacets, { path: { _id: flow._id, _stepId: step._id }, query: { field } });
    return Array.isArray(body) ? body : (body?.facets ?? []);
  }

  /** On a plain spec server, counted by paging the listing (up to MAX_CLIENT_COUNT errors), the query evaluated here. */
  async countErrors(flowRef: string, stepRef: string, params: ErrorCountParams = {}): Promise<number> {
    const ref = await this.stepOf(flowRef, stepRef);
    if ((await this.server()).flowdeck) {
      const { body } = await this.http.call<number | { count: number }>(ROUTES.countErrors, {
        path: { _id: ref.flow._id, _stepId: ref.step._id },
        query: { q: params.query?.trim() || undefined, resolved: params.resolved ? true : undefined },
      });
      return typeof body === 'number' ? body : (body?.count ?? 0);
    }
    const matches = clientPredicate(params.query, this.url);
    let count = 0;
    let read = 0;
    await walkErrors(this, ref, params.resolved ? 'resolved' : 'open', (e) => {
      if (++read > MAX_CLIENT_COUNT) throw notAvailable(`counting more than ${MAX_CLIENT_COUNT.toLocaleString('en-US')} errors`, this.url);
      if (matches === undefined || matches(e)) count++;
    });
    return count;
  }

  async errorGroups(flowRef: string, stepRef: string | undefined, params: ErrorGroupParams = {}): Promise<ErrorGroupsResponse> {
    await this.requireFlowdeck('error groups');
    const flow = await this.flowOf(flowRef);
    const stepId = stepRef !== undefined ? (await this.stepOf(flow._id, stepRef)).step._id : undefined;
    const { body } = await this.http.call<ErrorGroupsResponse>(ROUTES.errorGroups, {
      path: { _id: flow._id },
      query: { stepId, q: params.query?.trim() || undefined, sort: params.sort, limit: params.limit, resolved: params.resolved ? true : undefined },
    });
    return body ?? { groups: [], total: 0, numGroups: 0 };
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

/** The local backend's bound and words (clampLimit), checked before asking: the same mistake reads the same. */
function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidInputError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${limit}`, 'limit');
  }
}

function withPage<T extends object>(out: T, next: string | null | undefined): T & { nextPageURL?: string } {
  return next ? { ...out, nextPageURL: next } : out;
}

/** A run's answer as the started job: flowdeck's JobDetail, the spec's job record, or a refusal. */
function runAnswer(body: unknown, flowId: string, url: string): JobDetail {
  const one = Array.isArray(body) ? body[0] : body;
  if (one && typeof one === 'object') {
    const o = one as Record<string, unknown>;
    if (typeof o.error === 'string') throw new ConflictError(o.error, 'run_rejected');
    const id = typeof o._id === 'string' ? o._id : typeof o._jobId === 'string' ? o._jobId : undefined;
    if (id) {
      const job = { type: 'flow', status: 'queued', _flowId: flowId, ...o, _id: id } as unknown as Job;
      return { ...job, children: Array.isArray(o.children) ? (o.children as Job[]) : [] };
    }
  }
  throw new RemoteHttpError(`${url} accepted the run but answered no job`, 502, 'bad_response');
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
