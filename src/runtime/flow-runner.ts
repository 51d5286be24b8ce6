import { classifyFailure } from '../domain/classify.js';
import { ConflictError } from '../domain/errors.js';
import { encodeId } from '../domain/ids.js';
import type { CatalogFlow } from '../flows/load.js';
import { getPath, renderTemplate } from '../flows/template.js';
import type { Store, StoreTx } from '../store/contract/store.js';
import type { HttpClient } from './http.js';
import { mapLimit, renderPath, runRecord, settleOutcome, type RecordRun, type RuntimeStep, type StepOutcome } from './pipeline.js';
import { OutcomeRecorder } from './recorder.js';

// Runs a flow as a job: a parent `flow` job with a child job per step. Records move in pages; each
// page's outcomes and counters commit in one transaction, so a kill mid-run leaves whole pages.

export interface FlowRunContext {
  store: Store;
  http: HttpClient;
  redactor: import('../domain/mask.js').Redactor;
  now: () => number;
}

export interface FlowRunOptions {
  triggeredBy: string;
  /** Called after each page commits (progress for the CLI and the TUI). */
  onPage?: (jobId: number) => void;
}

interface ChildJobs {
  byStep: Map<number, number>;
}

/** What one fetched page's commit writes: every record's outcomes and the jobs' counters. */
interface PageOutcomes {
  flow: CatalogFlow;
  generator: RuntimeStep;
  recorder: OutcomeRecorder;
  children: ChildJobs;
  exportJob: number;
  jobId: number;
  groupId: string;
  records: unknown[];
  runs: RecordRun[];
  pageStartedAt: number;
  autoResolve: boolean;
  at: number;
}

export class FlowRunner {
  constructor(private readonly ctx: FlowRunContext) {}

  /** Creates the queued job rows, so callers get an id before any HTTP happens. */
  createJob(flow: CatalogFlow, steps: RuntimeStep[], triggeredBy: string): Promise<number> {
    const now = this.ctx.now();
    const logging = flow.def.logging?.mode === 'full';
    return this.ctx.store.withTransaction(async (tx) => {
      // Two runs of one flow would fetch the same pages and send every record twice.
      const running = (await tx.jobs.activeJobs()).find((j) => j.type === 'flow' && j.flowId === flow.id);
      if (running) throw new ConflictError(`flow "${flow.name}" is already running (job ${encodeId('job', running.id, running.createdAt)}); wait for it or cancel it`, 'flow_running');
      const jobId = await tx.jobs.insertJob({ type: 'flow', status: 'queued', flowId: flow.id, createdAt: now, triggeredBy, logMode: logging ? 'full' : undefined });
      for (const step of steps) {
        await tx.jobs.insertJob({
          type: step.def.kind === 'import' ? 'import' : 'export',
          status: 'queued',
          flowId: flow.id,
          step: step.key,
          parentId: jobId,
          createdAt: now,
          triggeredBy,
        });
      }
      return jobId;
    });
  }

  async run(jobId: number, flow: CatalogFlow, steps: RuntimeStep[], options: FlowRunOptions): Promise<void> {
    const { store, now } = this.ctx;
    const children: ChildJobs = { byStep: new Map((await store.jobs.childJobs(jobId)).map((j) => [j.step!, j.id])) };
    const logging = flow.def.logging?.mode === 'full';
    const recorder = new OutcomeRecorder(this.ctx.redactor, jobId, logging);
    const started = now();
    await store.withTransaction(async (tx) => {
      await tx.jobs.updateJob(jobId, { status: 'running', startedAt: started, ownerPid: process.pid, heartbeatAt: started }, started);
      for (const child of children.byStep.values()) await tx.jobs.updateJob(child, { status: 'running', startedAt: started }, started);
      await tx.catalog.touchFlow(flow.id, started);
    });

    const generators = steps.filter((s) => s.def.kind === 'export');
    const processors = steps.filter((s) => s.def.kind !== 'export');
    let failedExport = false;
    let canceled = false;
    // Liveness apart from progress: a page waiting on slow targets must not look dead to recovery.
    const heartbeat = setInterval(() => {
      // busy or unreachable: the next beat (or the next page's commit) tries again
      store.jobs.updateJob(jobId, { heartbeatAt: now() }, now()).catch(() => {});
    }, 30_000);
    heartbeat.unref();
    try {
      for (const generator of generators) {
        const result = await this.runGenerator(jobId, flow, generator, processors, recorder, children, options);
        if (result === 'canceled') {
          canceled = true;
          break;
        }
        if (result === 'failed') failedExport = true;
      }
    } catch (e) {
      await this.finish(jobId, children, 'failed', `runtime error: ${(e as Error).message}`);
      throw e;
    } finally {
      clearInterval(heartbeat);
    }
    await this.finish(jobId, children, canceled ? 'canceled' : failedExport ? 'failed' : 'completed');
  }

  private finish(jobId: number, children: ChildJobs, status: 'completed' | 'failed' | 'canceled', note?: string): Promise<void> {
    const at = this.ctx.now();
    return this.ctx.store.withTransaction(async (tx) => {
      for (const child of children.byStep.values()) {
        const row = await tx.jobs.getJob(child);
        if (row && (row.status === 'running' || row.status === 'queued' || row.status === 'canceling')) {
          await tx.jobs.updateJob(child, { status: status === 'failed' && row.numError === 0 ? 'completed' : status, endedAt: at, doneExporting: true }, at);
        }
      }
      await tx.jobs.updateJob(jobId, { status, endedAt: at, doneExporting: true, ownerPid: null, ...(note ? { note } : {}) }, at);
    });
  }

  private async isCancelRequested(jobId: number): Promise<boolean> {
    const status = (await this.ctx.store.jobs.getJob(jobId))?.status;
    return status === 'canceling' || status === 'canceled';
  }

  private async runGenerator(
    jobId: number,
    flow: CatalogFlow,
    generator: RuntimeStep,
    processors: RuntimeStep[],
    recorder: OutcomeRecorder,
    children: ChildJobs,
    options: FlowRunOptions,
  ): Promise<'done' | 'failed' | 'canceled'> {
    const { store, http, now } = this.ctx;
    const def = generator.exportDef!;
    const paging = def.http.paging;
    const exportJob = children.byStep.get(generator.key)!;
    const jobHex = encodeId('job', jobId, (await store.jobs.getJob(jobId))!.createdAt);
    const pages = paging.method === 'page' ? paging.maxPages : 1;
    const autoResolve = flow.def.autoResolveMatchingTraceKeys === true;
    for (let n = 0; n < pages; n++) {
      if (await this.isCancelRequested(jobId)) return 'canceled';
      const pageNo = paging.method === 'page' ? paging.firstPage + n : 1;
      let path = renderPath(generator.request.relativeURI, {});
      if (paging.method === 'page') {
        const sep = path.includes('?') ? '&' : '?';
        path += `${sep}${encodeURIComponent(paging.pageParam)}=${pageNo}&${encodeURIComponent(paging.sizeParam)}=${paging.pageSize}`;
      }
      const result = await http.send(generator.connection, {
        method: def.http.method,
        path,
        headers: generator.request.headers,
      });
      const groupId = `${jobHex}-p${pageNo}`;
      let records: unknown[] | undefined;
      let failure = result.failure;
      if (!failure) {
        try {
          const body: unknown = result.body.trim() ? JSON.parse(result.body) : [];
          const resource = def.http.response.resourcePath ? getPath(body, def.http.response.resourcePath) : body;
          records = Array.isArray(resource) ? resource : resource === undefined || resource === null ? [] : [resource];
        } catch (e) {
          failure = { kind: 'parse', statusCode: result.statusCode ?? 0, body: result.body, detail: (e as Error).message };
        }
      }
      if (failure || !records) {
        // A page that cannot be fetched is an error on the export step; the run stops there.
        const outcome: StepOutcome = {
          ok: false,
          step: generator,
          input: { page: pageNo },
          failure: failure!,
          classified: classifyFailure(failure!),
          http: result,
          startedAt: result.startedAt,
          timeTaken: result.timeTaken,
          stages: () => [],
        };
        const at = now();
        await store.withTransaction(async (tx) => {
          await recorder.record(tx, settleOutcome(outcome, generator, recorder.logging, this.ctx.redactor), { groupId, recordId: `${groupId}`, pgExportId: generator.def.id }, at);
          await tx.jobs.addJobCounters(exportJob, { numError: 1 }, at);
          await tx.jobs.addJobCounters(jobId, { numError: 1 }, at);
          await tx.jobs.updateJob(exportJob, { status: 'failed', endedAt: at }, at);
          await tx.jobs.updateJob(jobId, { heartbeatAt: at }, at);
        });
        options.onPage?.(jobId);
        return 'failed';
      }
      if (records.length === 0) break;

      const runs = await mapLimit(records, Math.max(1, processors[0]?.connection.concurrency ?? 8), (record) => runRecord(processors, record, http));
      const at = now();
      await store.withTransaction((tx) => this.commitPage(tx, { flow, generator, recorder, children, exportJob, jobId, groupId, records: records!, runs, pageStartedAt: result.startedAt, autoResolve, at }));
      options.onPage?.(jobId);
      if (paging.method === 'page' && records.length < paging.pageSize) break;
    }
    return 'done';
  }

  /** A page's outcomes and counters, in the page's one transaction. */
  private async commitPage(tx: StoreTx, page: PageOutcomes): Promise<void> {
    const { flow, generator, recorder, children, exportJob, jobId, groupId, records, runs, autoResolve, at } = page;
    const def = generator.exportDef!;
    let success = 0;
    let errored = 0;
    const perStep = new Map<number, { ok: number; err: number }>();
    for (const [index, run] of runs.entries()) {
      const traceKey = traceKeyOf(def.traceKeyTemplate, records[index]);
      const recordId = `${groupId}-r${index}`;
      const ctx = { oIndex: String(index), traceKey, groupId, pgExportId: generator.def.id };
      await recorder.record(tx, { ok: true, step: generator, startedAt: page.pageStartedAt, timeTaken: 0 }, { ...ctx, recordId }, at);
      for (const outcome of run.outcomes) {
        await recorder.record(tx, settleOutcome(outcome, outcome.step, recorder.logging, this.ctx.redactor), { ...ctx, recordId: `${recordId}-s${outcome.step.def.position}` }, at);
        const counts = perStep.get(outcome.step.key) ?? { ok: 0, err: 0 };
        if (outcome.ok) counts.ok++;
        else counts.err++;
        perStep.set(outcome.step.key, counts);
      }
      if (run.succeeded) {
        success++;
        // A newer record with the same traceKey got through: its older open errors are moot.
        if (autoResolve && traceKey) await tx.retries.resolveMatchingTraceKey(flow.id, traceKey, Number.MAX_SAFE_INTEGER, at);
      } else errored++;
    }
    for (const [stepKey, counts] of perStep) {
      await tx.jobs.addJobCounters(children.byStep.get(stepKey)!, { numSuccess: counts.ok, numError: counts.err, numPagesProcessed: 1 }, at);
    }
    await tx.jobs.addJobCounters(exportJob, { numExport: records.length, numPagesGenerated: 1 }, at);
    await tx.jobs.addJobCounters(jobId, { numExport: records.length, numSuccess: success, numError: errored, numPagesGenerated: 1, numPagesProcessed: 1 }, at);
    await tx.jobs.updateJob(jobId, { heartbeatAt: at }, at);
  }
}

export function traceKeyOf(template: string | undefined, record: unknown): string | undefined {
  if (template) {
    const key = renderTemplate(template, { record });
    return key || undefined;
  }
  const id = (record as Record<string, unknown> | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}
