import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DEFAULT_RETRY_POLICY } from '../runtime/recorder.js';
import type { Db } from '../store/sqlite/db.js';
import { ftsStepTokenSql } from '../store/sqlite/error-query.js';
import { DEMO_SHAPES, RowFactory, TABLE_WIDTH, type Batch, type FactorySpec, type FactoryStep, type StepShape, type TableName } from './generate-rows.js';
import type { Workspace } from './workspace.js';

// A large, realistic workspace without running a million records through the mock systems: open
// errors written straight into the store as the recorder would have written them (snapshot, masked
// trace, FTS row, tags mirrored in error_tags, retryAt from the step's policy, the signature and its
// error_sigs row), spread over the last
// 30 days with row ids in time order, each owned by a daily flow job of its flow.
//
// Speed (a million errors well under a minute on two cores): a worker thread builds the rows of the
// next batch while this thread writes the current one; ids are assigned up front, so every table is
// written with multi-row prepared INSERTs in one transaction per 50k errors; foreign-key checks are
// off and synchronous=OFF with a 512 MiB cache only while generating. For a big batch into a small
// store the secondary indexes are dropped first and rebuilt at the end (a sort per index instead of
// a million B-tree inserts each); ANALYZE then gives the planner the indexes' selectivity. A process
// killed mid-way leaves a partial workspace (possibly without those indexes): generate it again.

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
const BATCH = 50_000; // rows per transaction
const CHUNK = 5000; // rows per message from the worker
const AHEAD = 3; // chunks the worker may build ahead of the writer
const ROWS_PER_STATEMENT = 40;
const WORKER_MIN_ROWS = 20_000;
const REBUILD_INDEXES_MIN_ROWS = 50_000;
const WORKER_URL = new URL('./generate-worker.js', import.meta.url);

const INSERT_HEAD: Record<TableName, string> = {
  errors: `INSERT INTO errors (id, step, resolved, occurred_at, source, code, message, o_index, job, trace_key, classification, classified_by,
    trace, trace_sec, retry_data, retry_data_sec, purge_at, retry_at, tags, assignee, assigned_by, assignee_user, sig)`,
  retryData: 'INSERT INTO retry_data (id, step, created_at, updated_at, stage, pg_export_id, one_to_many, trace_key, data, adaptor_response, attempts)',
  traces: 'INSERT INTO traces (id, step, time, stage, method, status_code, request, response)',
};
// Parents before children, so the rows are consistent at every commit.
const TABLE_ORDER: TableName[] = ['traces', 'retryData', 'errors'];
// What SqliteCore.insertError keeps in sync with an error row, derived here from the rows just
// written (so the message and tags are neither built nor bound twice).
const DERIVED = [
  `INSERT INTO errors_fts (rowid, message, step) SELECT id, message, ${ftsStepTokenSql('step')} FROM errors WHERE id BETWEEN ? AND ?`,
  `INSERT INTO error_tags (tag, step, resolved, error)
    SELECT t.value, e.step, e.resolved, e.id FROM errors e, json_each(e.tags) t WHERE e.id BETWEEN ? AND ? AND e.tags IS NOT NULL`,
];

/**
 * Fills a demo workspace (seeded with `seedDemoWorkspace`, its flows not run) with `n` open errors
 * over its flows and steps. Appends after any errors already there, keeping ids in time order.
 */
export async function generateErrors(ws: Workspace, n: number, options: GenerateOptions = {}): Promise<GenerateResult> {
  const steps = stepsFor(ws, (_flow, step) => {
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
  const steps = stepsFor(ws, (flow, step) => (flow === flowName && step === stepName ? { shape: 'erp', weight: 1, retriableOnly: true } : undefined));
  if (steps.length !== 1) throw new Error(`no step "${stepName}" in a flow "${flowName}"`);
  return writeErrors(ws, steps, n, options);
}

type Want = { shape: StepShape; weight: number; retriableOnly: boolean };

function stepsFor(ws: Workspace, wanted: (flowName: string, stepName: string) => Want | undefined): FactoryStep[] {
  const sqlite = ws.sqlite;
  const catalog = ws.catalog();
  const out: FactoryStep[] = [];
  for (const flow of sqlite.listFlows()) {
    if (flow.removed) continue;
    const defs = catalog.flows.get(flow.id)?.steps ?? [];
    const steps = sqlite.steps(flow.id).filter((s) => s.position < 1000);
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

class Inserter {
  private readonly many: import('better-sqlite3').Statement;
  private readonly one: import('better-sqlite3').Statement;
  private readonly full: number;

  constructor(db: Db, table: TableName) {
    const width = TABLE_WIDTH[table];
    const tuple = `(${Array(width).fill('?').join(', ')})`;
    this.many = db.prepare(`${INSERT_HEAD[table]} VALUES ${Array(ROWS_PER_STATEMENT).fill(tuple).join(', ')}`);
    this.one = db.prepare(`${INSERT_HEAD[table]} VALUES ${tuple}`);
    this.full = width * ROWS_PER_STATEMENT;
  }

  write(chunks: unknown[][], width: number): void {
    for (const chunk of chunks) {
      if (chunk.length === this.full) this.many.run(chunk);
      else for (let i = 0; i < chunk.length; i += width) this.one.run(chunk.slice(i, i + width));
    }
  }
}

async function writeErrors(ws: Workspace, steps: FactoryStep[], n: number, options: GenerateOptions): Promise<GenerateResult> {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`the number of errors must be a whole number, got ${n}`);
  const started = Date.now();
  const sqlite = ws.sqlite;
  const db = sqlite.db;

  const now = Date.now();
  const last = db.prepare('SELECT max(occurred_at) FROM errors').pluck().get() as number | null;
  const start = Math.max(now - WINDOW_MS, (last ?? 0) + 1);
  const span = Math.max(1, now - start);
  const days = Math.max(1, Math.ceil(span / DAY));
  const nextId = (table: string) => ((db.prepare(`SELECT max(id) FROM ${table}`).pluck().get() as number | null) ?? 0) + 1;
  const existing = db.prepare('SELECT count(*) FROM errors').pluck().get() as number;

  // A flow job per flow per day, with a child job per step, as a flow run creates them.
  const flowIds = [...new Set(steps.map((s) => s.flowId))];
  const operator = ws.operator();
  const jobs: Record<string, number[]> = {};
  const childJobs = new Map<string, number>(); // `${flowJob}:${stepKey}` → child job
  const insertJob = db.prepare(`INSERT INTO jobs (type, status, flow_id, step, parent_id, created_at, started_at, ended_at, last_modified, triggered_by, done_exporting)
    VALUES (?, 'completed', ?, ?, ?, ?, ?, ?, ?, ?, 1)`);
  sqlite.transaction(() => {
    for (let d = 0; d < days; d++) {
      const at = start + d * DAY;
      const end = Math.min(now, at + DAY - 1);
      for (const flowId of flowIds) {
        const id = Number(insertJob.run('flow', flowId, null, null, at, at, end, end, operator).lastInsertRowid);
        (jobs[flowId] ??= []).push(id);
        for (const step of sqlite.steps(flowId)) {
          if (step.position >= 1000) continue;
          const child = Number(insertJob.run(step.kind === 'import' ? 'import' : 'export', flowId, step.key, id, at, at, end, end, operator).lastInsertRowid);
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
    users: sqlite.users().filter((u) => !u.synthetic).map((u) => ({ id: u.id, email: u.email })),
    tags: sqlite.tagCatalog(),
    firstIds: { error: nextId('errors'), retryData: nextId('retry_data'), trace: nextId('traces') },
    rowsPerStatement: ROWS_PER_STATEMENT,
  };
  const useWorker = options.worker ?? (n >= WORKER_MIN_ROWS && existsSync(fileURLToPath(WORKER_URL)));
  const source = useWorker ? workerSource(spec) : inlineSource(spec);

  const saved = {
    synchronous: db.pragma('synchronous', { simple: true }),
    cache_size: db.pragma('cache_size', { simple: true }),
    foreign_keys: db.pragma('foreign_keys', { simple: true }),
  };
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -524288');
  db.pragma('foreign_keys = OFF');

  // Secondary indexes of the tables written, rebuilt by a sort each at the end.
  const dropped: string[] = [];
  const counts = new Map<string, number>();
  const totals = { retryData: 0, traces: 0, tagged: 0, assigned: 0 };
  const phases = { rows: 0, write: 0, indexes: 0, analyze: 0 };
  const rebuild = () => {
    while (dropped.length > 0) db.exec(dropped.shift()!);
  };
  try {
    if (n >= REBUILD_INDEXES_MIN_ROWS && n >= existing) {
      const indexes = db
        .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('errors', 'error_tags', 'retry_data', 'traces') AND sql IS NOT NULL`)
        .all() as Array<{ name: string; sql: string }>;
      sqlite.transaction(() => {
        for (const ix of indexes) {
          db.exec(`DROP INDEX "${ix.name}"`);
          dropped.push(ix.sql);
        }
      });
    }
    const inserters = Object.fromEntries(TABLE_ORDER.map((t) => [t, new Inserter(db, t)])) as Record<TableName, Inserter>;
    const derived = DERIVED.map((sql) => db.prepare(sql));
    const insertSig = db.prepare(`INSERT INTO error_sigs (id, step, code, source, classification, template, first_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET first_at = min(first_at, excluded.first_at)`);
    for (let done = 0; done < n; ) {
      const end = Math.min(n, done + BATCH);
      db.exec('BEGIN IMMEDIATE');
      try {
        while (done < end) {
          let t0 = Date.now();
          const chunk = await source.next();
          phases.rows += Date.now() - t0;
          t0 = Date.now();
          for (const table of TABLE_ORDER) inserters[table].write(chunk.tables[table], TABLE_WIDTH[table]);
          for (const stmt of derived) stmt.run(chunk.firstErrorId, chunk.lastErrorId);
          for (const row of chunk.sigs) insertSig.run(row);
          phases.write += Date.now() - t0;
          for (const [key, count] of chunk.counts) counts.set(key, (counts.get(key) ?? 0) + count);
          totals.retryData += chunk.retryData;
          totals.traces += chunk.traces;
          totals.tagged += chunk.tagged;
          totals.assigned += chunk.assigned;
          done += chunk.rows;
        }
        const t0 = Date.now();
        db.exec('COMMIT');
        phases.write += Date.now() - t0;
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
      options.onProgress?.(done);
    }

    // Job counters: what the runs that recorded these errors would have counted.
    sqlite.transaction(() => {
      const setCounters = db.prepare('UPDATE jobs SET num_error = ?, num_success = ?, num_export = ?, num_pages_generated = ?, num_pages_processed = ? WHERE id = ?');
      for (const [flowId, ids] of Object.entries(jobs)) {
        const flowSteps = sqlite.steps(flowId).filter((s) => s.position < 1000);
        for (const flowJob of ids) {
          let flowErrors = 0;
          for (const step of flowSteps) {
            const errs = counts.get(`${flowJob}:${step.key}`) ?? 0;
            flowErrors += errs;
            const child = childJobs.get(`${flowJob}:${step.key}`);
            if (child !== undefined) setCounters.run(errs, step.kind === 'export' ? 0 : errs * 3, 0, 0, 0, child);
          }
          const records = flowErrors * 4;
          const pages = Math.ceil(records / 50);
          setCounters.run(flowErrors, records - flowErrors, records, pages, pages, flowJob);
        }
      }
    });
    if (dropped.length > 0) options.onPhase?.('indexes');
    let t0 = Date.now();
    db.pragma('threads = 2'); // CREATE INDEX sorts on a second thread
    rebuild();
    db.pragma('threads = 0');
    phases.indexes = Date.now() - t0;
    // Statistics for the planner: which index narrows a step's listing the most.
    options.onPhase?.('analyze');
    t0 = Date.now();
    db.exec('ANALYZE');
    phases.analyze = Date.now() - t0;
  } finally {
    await source.close();
    rebuild(); // also when generation failed, so the workspace keeps its indexes
    db.pragma(`foreign_keys = ${saved.foreign_keys}`);
    db.pragma(`cache_size = ${saved.cache_size}`);
    db.pragma(`synchronous = ${saved.synchronous}`);
  }
  return { errors: n, ...totals, flowJobs: Object.values(jobs).reduce((s, ids) => s + ids.length, 0), ms: Date.now() - started, phases };
}
