import { NotFoundError, InactiveFlowError, WorkspaceError } from '../domain/errors.js';
import type { Redactor } from '../domain/mask.js';
import type { CatalogFlow } from '../flows/load.js';
import type { MockSystems } from '../mocks/systems.js';
import { assertConfigUsable } from '../workspace/config-check.js';
import type { Workspace } from '../workspace/workspace.js';
import { redactorFor, resolveConnection, resolveRequest, type ResolvedConnection, type ResolvedRequest } from './connections.js';
import { FlowRunner } from './flow-runner.js';
import type { HttpClient } from './http.js';
import { RetryRunner } from './retry-runner.js';
import type { RuntimeStep } from './pipeline.js';

// The embedded runtime of one workspace in one process. It resolves connections lazily (a demo
// workspace starts its mock systems here, so every process that runs records has live targets)
// and owns the HTTP pools; close() releases both. The HTTP client (undici) and the mock systems
// are imported by start(), so a process that only reads the store never loads them.

export const DEMO_MOCK_OPTIONS = { orders: 200, erpRateLimit: 90 } as const;

/** A baseURI whose templates render to no URL is named with its template (the value may hold a secret). */
function assertBaseUri(connection: ResolvedConnection, template: string, file: string): void {
  if (URL.canParse(connection.baseURI)) return;
  const refs = template.includes('{{') ? ' (check the config and environment values its templates use)' : '';
  const shown = template.replace(/\/\/([^/@\s]*):[^/@\s]*@/, '//$1:********@'); // a literal password never reaches the screen
  throw new WorkspaceError(`${file}: connection "${connection.name}": baseURI "${shown}" does not render to a URL${refs}`, 'baseURI');
}

export class Runtime {
  private mocks: MockSystems | undefined;
  private connections: Map<string, ResolvedConnection> | undefined;
  /** Every export's and import's request, by its id (ids of exports and imports never collide). */
  private requests: Map<string, ResolvedRequest> | undefined;
  private client: HttpClient | undefined;
  private redactorValue: Redactor | undefined;
  private starting: Promise<void> | undefined;

  constructor(private readonly ws: Workspace) {}

  /** Resolves every connection; starts the demo's mock systems first when this is a demo workspace. */
  start(): Promise<void> {
    // Callers that race share one start; a failed start may be tried again.
    this.starting ??= this.startOnce().catch((e: unknown) => {
      this.starting = undefined;
      throw e;
    });
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    // Checked before anything starts: a wrong-typed {{config.…}} value is named, not an "Invalid URL" later.
    const config = this.ws.config.store as Record<string, unknown>;
    // The store's mirror must know every step this process runs (flow files changed since opening).
    assertConfigUsable(config, await this.ws.catalogInStore(), this.ws.config.path);
    const { HttpClient } = await import('./http.js');
    const mockUrls: Record<string, string> = {};
    if (this.ws.isDemo) {
      const { startMockSystems } = await import('../mocks/systems.js');
      this.mocks = await startMockSystems(DEMO_MOCK_OPTIONS);
      Object.assign(mockUrls, this.mocks.urls);
    }
    const scope = { env: this.ws.env, config, mocks: mockUrls };
    const connections = new Map<string, ResolvedConnection>();
    const catalog = this.ws.catalog();
    for (const c of catalog.connections.values()) {
      const resolved = resolveConnection(c.id, c.def, scope);
      assertBaseUri(resolved, c.def.http.baseURI, c.file);
      connections.set(c.id, resolved);
    }
    // Every step's request, not only the running flow's: the redactor hides all their secrets.
    const requests = new Map<string, ResolvedRequest>();
    for (const e of [...catalog.exports.values(), ...catalog.imports.values()]) {
      requests.set(e.id, resolveRequest(e.def.http, scope, connections.get(e.connectionId)!));
    }
    this.connections = connections;
    this.requests = requests;
    this.redactorValue = redactorFor(connections.values(), requests.values());
    this.client = new HttpClient(this.redactorValue);
  }

  get redactor(): Redactor {
    if (!this.redactorValue) throw new Error('runtime not started');
    return this.redactorValue;
  }

  get http(): HttpClient {
    if (!this.client) throw new Error('runtime not started');
    return this.client;
  }

  get mockSystems(): MockSystems | undefined {
    return this.mocks;
  }

  flow(flowId: string): CatalogFlow {
    const flow = this.ws.catalog().flows.get(flowId);
    if (!flow) throw new NotFoundError('flow', flowId);
    return flow;
  }

  /** The flow's steps bound to their store keys, definitions and resolved connections. */
  async steps(flow: CatalogFlow): Promise<RuntimeStep[]> {
    const catalog = this.ws.catalog();
    const keys = new Map((await this.ws.store.catalog.steps(flow.id)).map((s) => [s.stepId, s.key]));
    return flow.steps.map((def) => {
      const exportEntry = def.kind === 'import' ? undefined : catalog.exports.get(def.id);
      const importEntry = def.kind === 'import' ? catalog.imports.get(def.id) : undefined;
      const connectionId = (exportEntry ?? importEntry)!.connectionId;
      const step: RuntimeStep = { key: keys.get(def.id)!, def, connection: this.connections!.get(connectionId)!, request: this.requests!.get(def.id)! };
      if (exportEntry) step.exportDef = exportEntry.def;
      if (importEntry) step.importDef = importEntry.def;
      return step;
    });
  }

  private runner(): FlowRunner {
    return new FlowRunner({ store: this.ws.store, http: this.http, redactor: this.redactor, now: Date.now });
  }

  /** Queues a run and executes it in this process; resolves with the flow job's row id when done. */
  async runFlow(flowId: string, triggeredBy: string, onPage?: (jobId: number) => void, onQueued?: (jobId: number) => void): Promise<number> {
    const flow = this.flow(flowId);
    const row = await this.ws.store.catalog.getFlow(flowId);
    if (row?.disabled) throw new InactiveFlowError(flow.name, 'running');
    await this.start();
    const steps = await this.steps(flow);
    const runner = this.runner();
    const jobId = await runner.createJob(flow, steps, triggeredBy);
    onQueued?.(jobId);
    await runner.run(jobId, flow, steps, { triggeredBy, ...(onPage ? { onPage } : {}) });
    return jobId;
  }

  /** The retry runner; queueing needs no HTTP, so it works before start(). */
  retries(): RetryRunner {
    // FLOWDECK_RETRY_THREAD_FROM: the job size from which a retry sends from a thread of its own.
    const threadFrom = Number(this.ws.env.FLOWDECK_RETRY_THREAD_FROM?.trim() || Number.NaN);
    return new RetryRunner({
      store: this.ws.store,
      http: this.client!,
      redactor: this.redactorValue!,
      now: Date.now,
      ...(Number.isInteger(threadFrom) && threadFrom >= 0 ? { senderThreadFrom: threadFrom } : {}),
    });
  }

  /**
   * Claims a retry job and runs it here; false when it cannot run here (another process has it on a
   * store of one worker, or it ended). `stop`: this process stops working on it (a worker's stop).
   */
  async runRetryJob(jobId: number, onProgress?: () => void, stop?: AbortSignal): Promise<boolean> {
    const row = await this.ws.store.jobs.getJob(jobId);
    if (!row || row.flowId === null) return false;
    await this.start();
    const runner = this.retries();
    if (!(await runner.claim(jobId))) return false;
    const flow = this.flow(row.flowId);
    await runner.run(jobId, flow, await this.steps(flow), onProgress, stop);
    return true;
  }

  async close(): Promise<void> {
    await this.client?.close();
    await this.mocks?.close();
    this.client = undefined;
    this.mocks = undefined;
    this.connections = undefined;
    this.requests = undefined;
    this.starting = undefined;
  }
}
