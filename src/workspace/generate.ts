import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DEFAULT_RETRY_POLICY } from '../runtime/recorder.js';
import { DEMO_SHAPES, RowFactory, type Batch, type FactorySpec, type FactoryStep, type StepShape } from './generate-rows.js';
import type { NewJob } from '../store/contract/ports.js';
import type { StepRow } from '../store/contract/rows.js';
import type { Workspace } from './workspace.js';

// A large, realistic workspace without running a million records through the mock systems: open
// errors written straight into the store as the recorder would have written them (snapshot, masked
// trace, FTS row, tags mirrored in error_tags, retryAt from the step's policy, the signature and its
// error_sigs row), spread over the last
// 30 days with row ids in time order, each owned by a daily flow job of its flow.
//
// Speed (a million errors well under a minute on two cores): a worker thread builds the rows of the
// next batch while this thread hands the current one to the store's bulk load (store.bulk.loadSynthetic:
// ids are assigned up front, so the store writes whole batches at a time; see src/store/sqlite/bulk.ts).
// A process killed mid-way leaves a partial workspace: generate it again.

export interface GenerateOptions {
  seed?: number;
  /** Called after every committed batch with the number of errors written so far. */
  onProgress?(done: number): void;
  /** Called when the rows are written and the slower finishing steps begin. */
  onPhase?(phase: 'indexes' | 'analyze'): void;
  /** Build rows on a worker thread (default: when there are at least 20,000 and the worker is built). */
  worker?: boolean;
}

export interface GenerateResult {
  errors: number;
  retryData: number;
  traces: number;
  tagged: number;
  assigned: number;
  flowJobs: number;
  ms: number;
  /** Where the time went: waiting for rows, writing them, rebuilding indexes, ANALYZE (ms). */
  phases: { rows: number; write: number; indexes: number; analyze: number };
}

const DAY = 24 * 3600 * 1000;
const WINDOW_MS = 30 * DAY;
const CHUNK = 5000; // rows per message from the worker
const AHEAD = 3; // chunks the worker may build ahead of the writer
const ROWS_PER_STATEMENT = 40;
const WORKER_MIN_ROWS = 20_000;
const WORKER_URL = new URL('./generate-worker.js', import.meta.url);

/**
 * Fills a demo workspace (seeded with `seedDemoWorkspace`, its flows not run) with `n` open errors
 * over its flows and steps. Appends after any errors already there, keeping ids in time order.
 */
export async function generateErrors(ws: Workspace, n: number, options: GenerateOptions = {}): Promise<GenerateResult> {
  const steps = await stepsFor(ws, (_flow, step) => {
    const demo = DEMO_SHAPES[step];
    return demo ? { ...demo, retriableOnly: false } : undefined;
  });
  if (steps.length === 0) throw new Error('the workspace has none of the demo steps: seed it with seedDemoWorkspace first');
  return writeErrors(ws, steps, n, options);
}

/**
 * `n` open errors on one step, every one with a snapshot (no connection-class or mapping failures),
 * shaped like the demo's ERP import: order records that the step maps to sales orders.
 */
export async function generateStepErrors(ws: Workspace, flowName: string, stepName: string, n: number, options: GenerateOptions = {}): Promise<GenerateResult> {
  const steps = await stepsFor(ws, (flow, step) => (flow === flowName && step === stepName ? { shape: 'erp', weight: 1, retriableOnly: true } : undefined));
  if (steps.length !== 1) throw new Error(`no step "${stepName}" in a flow "${flowName}"`);
  return writeErrors(ws, steps, n, options);
}

type Want = { shape: StepShape; weight: number; retriableOnly: boolean };

async function stepsFor(ws: Workspace, wanted: (flowName: string, stepName: string) => Want | undefined): Promise<FactoryStep[]> {
  const catalog = ws.catalog();
  const out: FactoryStep[] = [];
  for (const flow of await ws.store.catalog.listFlows()) {
    if (flow.removed) continue;
    const defs = catalog.flows.get(flow.id)?.steps ?? [];
    const steps = (await ws.store.catalog.steps(flow.id)).filter((s) => s.position < 1000);
    const generator = steps.find((s) => s.kind === 'export' && s.position === 0);
    for (const step of steps) {
      const want = wanted(flow.name, step.name);
      if (!want) continue;
      out.push({
        flowId: flow.id,
        stepKey: step.key,
        kind: step.kind,
        ...want,
        policy: defs.find((d) => d.id === step.stepId)?.retryPolicy ?? DEFAULT_RETRY_POLICY,
        pgExportId: generator?.stepId ?? null,
      });
    }
  }
  return out;
}

/** Where rows come from, CHUNK at a time and in order: a worker thread a few chunks ahead, or this thread. */
interface ChunkSource {
  next(): Promise<Batch>;
  close(): Promise<void>;
}

function inlineSource(spec: FactorySpec): ChunkSource {
  const factory = new RowFactory(spec);
  let done = 0;
  return {
    next: async () => factory.batch((done = Math.min(spec.n, done + CHUNK))),
    close: async () => {},
  };
}

function workerSource(spec: FactorySpec): ChunkSource {
  // Small chunks keep the worker's live data (and the cost of copying it across) small; credits
  // keep it at most AHEAD chunks ahead, so memory stays flat whichever side is faster.
  const worker = new Worker(WORKER_URL, { workerData: { spec, chunk: CHUNK }, resourceLimits: { maxYoungGenerationSizeMb: 128 } });
  const ready: Batch[] = [];
  const waiting: Array<{ resolve: (b: Batch) => void; reject: (e: Error) => void }> = [];
  let failed: Error | undefined;
  const fail = (e: Error) => {
    failed ??= e;
    for (const w of waiting.splice(0)) w.reject(failed);
  };
  worker.on('message', (b: Batch) => {
    const w = waiting.shift();
    if (w) w.resolve(b);
    else ready.push(b);
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the generator's worker thread exited (${code})`)));
  worker.postMessage(AHEAD);
  return {
    next() {
      worker.postMessage(1);
      const b = ready.shift();
      if (b) return Promise.resolve(b);
      if (failed) return Promise.reject(failed);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    async close() {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

/** The source's batches, `n` errors in all, as the store's bulk load reads them. */
async function* batchesOf(source: ChunkSource, n: number): AsyncGenerator<Batch> {
  for (let done = 0; done < n; ) {
    const batch = await source.next();
    done += batch.rows;
    yield batch;
  }
}

async function writeErrors(ws: Workspace, steps: FactoryStep[], n: number, options: GenerateOptions): Promise<GenerateResult> {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`the number of errors must be a whole number, got ${n}`);
  const started = Date.now();
  const { store } = ws;

  const now = Date.now();
  const at = await store.bulk.loadStart();
  const start = Math.max(now - WINDOW_MS, (at.lastOccurredAt ?? 0) + 1);
  const span = Math.max(1, now - start);
  const days = Math.max(1, Math.ceil(span / DAY));

  // A flow job per flow per day, with a child job per step, as a flow run creates them.
  const flowIds = [...new Set(steps.map((s) => s.flowId))];
  const operator = ws.operator();
  const jobs: Record<string, number[]> = {};
  const childJobs = new Map<string, number>(); // `${flowJob}:${stepKey}` → child job
  const endedAt = new Map<number, number>(); // flow job → when its run ended
  const stepsOf = new Map<string, StepRow[]>();
  for (const flowId of flowIds) stepsOf.set(flowId, (await store.catalog.steps(flowId)).filter((s) => s.position < 1000));
  await store.withTransaction(async (tx) => {
    const completedJob = async (job: Omit<NewJob, 'status' | 'createdAt' | 'triggeredBy'>, from: number, to: number) => {
      const id = await tx.jobs.insertJob({ ...job, status: 'completed', createdAt: from, triggeredBy: operator });
      await tx.jobs.updateJob(id, { startedAt: from, endedAt: to, doneExporting: true }, to);
      return id;
    };
    for (let d = 0; d < days; d++) {
      const from = start + d * DAY;
      const to = Math.min(now, from + DAY - 1);
      for (const flowId of flowIds) {
        const id = await completedJob({ type: 'flow', flowId }, from, to);
        (jobs[flowId] ??= []).push(id);
        endedAt.set(id, to);
        for (const step of stepsOf.get(flowId)!) {
          const child = await completedJob({ type: step.kind === 'import' ? 'import' : 'export', flowId, step: step.key, parentId: id }, from, to);
          childJobs.set(`${id}:${step.key}`, child);
        }
      }
    }
  });

  const spec: FactorySpec = {
    seed: options.seed ?? 42,
    n,
    start,
    span,
    dayMs: DAY,
    steps,
    jobs,
    users: (await store.triage.users()).filter((u) => !u.synthetic).map((u) => ({ id: u.id, email: u.email })),
    tags: await store.triage.tagCatalog(),
    firstIds: at.nextIds,
    rowsPerStatement: ROWS_PER_STATEMENT,
  };
  const useWorker = options.worker ?? (n >= WORKER_MIN_ROWS && existsSync(fileURLToPath(WORKER_URL)));
  const source = useWorker ? workerSource(spec) : inlineSource(spec);

  const counts = new Map<string, number>();
  const totals = { retryData: 0, traces: 0, tagged: 0, assigned: 0 };
  let phases: GenerateResult['phases'];
  try {
    phases = await store.bulk.loadSynthetic(batchesOf(source, n), {
      expected: n,
      onBatch: (batch) => {
        for (const [key, count] of batch.counts) counts.set(key, (counts.get(key) ?? 0) + count);
        totals.retryData += batch.retryData;
        totals.traces += batch.traces;
        totals.tagged += batch.tagged;
        totals.assigned += batch.assigned;
      },
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.onPhase ? { onPhase: options.onPhase } : {}),
    });
  } finally {
    await source.close();
  }

  // Job counters: what the runs that recorded these errors would have counted.
  await store.withTransaction(async (tx) => {
    for (const [flowId, ids] of Object.entries(jobs)) {
      const flowSteps = stepsOf.get(flowId)!;
      for (const flowJob of ids) {
        const at = endedAt.get(flowJob)!;
        let flowErrors = 0;
        for (const step of flowSteps) {
          const errs = counts.get(`${flowJob}:${step.key}`) ?? 0;
          flowErrors += errs;
          const child = childJobs.get(`${flowJob}:${step.key}`);
          if (child !== undefined) await tx.jobs.addJobCounters(child, { numError: errs, numSuccess: step.kind === 'export' ? 0 : errs * 3 }, at);
        }
        const records = flowErrors * 4;
        const pages = Math.ceil(records / 50);
        await tx.jobs.addJobCounters(flowJob, { numError: flowErrors, numSuccess: records - flowErrors, numExport: records, numPagesGenerated: pages, numPagesProcessed: pages }, at);
      }
    }
  });
  return { errors: n, ...totals, flowJobs: Object.values(jobs).reduce((s, ids) => s + ids.length, 0), ms: Date.now() - started, phases };
}
