import { DEFAULT_BACKOFF, nextAttemptDelay, type BackoffPolicy } from '../domain/backoff.js';
import { encodeId } from '../domain/ids.js';
import type { CatalogFlow } from '../flows/load.js';
import { RetryRepo, type RetryItem } from '../store/retry-repo.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { HttpClient } from './http.js';
import { mapLimit, runRecord, type RecordRun, type RuntimeStep } from './pipeline.js';
import { OutcomeRecorder } from './recorder.js';

// A retry job re-feeds stored snapshots into the pipeline at their step, through the same code as
// a flow run. Outcomes commit per batch: a success resolves the record's open errors (resolvedBy =
// whoever retried) and a final failure records a new error with the same retryDataKey that carries
// the old one's tags and assignee, while the old one is superseded. Killed mid-way, the job's
// unsettled items stay pending and the job resumes; nothing is resolved twice.

export interface RetryJobOptions {
  /** Exponential back-off between attempts of a transiently failing record. */
  backoff?: BackoffPolicy & { maxAttempts: number };
  /** Records per second at most, so a recovering target is not flooded. */
  ratePerSecond?: number;
}

export interface RetryRunContext {
  store: SqliteStore;
  http: HttpClient;
  redactor: import('../domain/mask.js').Redactor;
  now: () => number;
}

export const SUPERSEDED_BY = 'superseded';
const BATCH = 1000;
const TRANSIENT = new Set(['intermittent', 'rate_limit', 'connection']);

export class RateLimiter {
  private nextSlot = 0;
  constructor(private readonly perSecond: number) {}

  async take(): Promise<void> {
    const now = Date.now();
    const wait = this.nextSlot - now;
    this.nextSlot = Math.max(now, this.nextSlot) + 1000 / this.perSecond;
    if (wait > 0) await sleep(wait);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RetryRunner {
  private readonly repo: RetryRepo;

  constructor(private readonly ctx: RetryRunContext) {
    this.repo = new RetryRepo(ctx.store);
  }

  /** Queues a retry job for the snapshots; undefined when none is left to retry (the API's 204). */
  queue(flowId: string, step: number, retryData: readonly number[], triggeredBy: string, options: RetryJobOptions): number | undefined {
    const { store } = this.ctx;
    const now = this.ctx.now();
    return store.transaction(() => {
      const busy = this.repo.pendingElsewhere(retryData);
      const todo = retryData.filter((rd) => !busy.has(rd));
      if (todo.length === 0) return undefined;
      const job = store.insertJob({ type: 'retry', status: 'queued', flowId, step, createdAt: now, triggeredBy, options });
      this.repo.insertItems(job, todo);
      store.audit({ at: now, actor: triggeredBy, action: 'retry', flowId, count: todo.length, detail: { job, retryData: todo.length, alreadyQueued: busy.size } });
      return job;
    });
  }

  private isCancelRequested(job: number): boolean {
    const status = this.ctx.store.getJob(job)?.status;
    return status === 'canceling' || status === 'canceled';
  }

  /** Claims a queued job for this process; false when another process has it or it is finished. */
  claim(job: number): boolean {
    const { store } = this.ctx;
    const now = this.ctx.now();
    return store.transaction(() => {
      const row = store.getJob(job);
      if (!row || row.status !== 'queued') return false;
      store.updateJob(job, { status: 'running', startedAt: row.startedAt ?? now, ownerPid: process.pid, heartbeatAt: now }, now);
      return true;
    });
  }

  async run(job: number, flow: CatalogFlow, allSteps: RuntimeStep[], onProgress?: () => void): Promise<void> {
    const { store, now } = this.ctx;
    const row = store.getJob(job)!;
    const options = (row.options ? JSON.parse(row.options) : {}) as RetryJobOptions;
    const start = allSteps.findIndex((s) => s.key === row.step);
    const steps = allSteps.slice(Math.max(0, start));
    const recorder = new OutcomeRecorder(store, this.ctx.redactor, job, flow.def.logging?.mode === 'full');
    const limiter = options.ratePerSecond ? new RateLimiter(options.ratePerSecond) : undefined;
    const concurrency = Math.max(1, steps[0]?.connection.concurrency ?? 8);
    const resolvedBy = row.triggeredBy ?? 'auto';
    const jobHex = encodeId('job', job, row.createdAt);

    for (;;) {
      if (this.isCancelRequested(job)) {
        const at = now();
        store.transaction(() => {
          this.repo.skipPending(job, 'canceled before it was retried');
          store.updateJob(job, { status: 'canceled', endedAt: at, ownerPid: null }, at);
        });
        onProgress?.();
        return;
      }
      const items = this.repo.dueItems(job, now(), BATCH);
      if (items.length === 0) {
        const nextDue = this.repo.nextDueAt(job);
        if (nextDue === undefined) break;
        const at = now();
        store.updateJob(job, { status: 'retrying', heartbeatAt: at }, at);
        onProgress?.();
        await sleep(Math.min(1000, Math.max(10, nextDue - at)));
        continue;
      }
      const runs = await mapLimit(items, concurrency, async (item) => {
        await limiter?.take();
        const snapshot = store.getRetryData(item.retryData);
        if (!snapshot) return undefined;
        return { run: await runRecord(steps, JSON.parse(snapshot.data), this.ctx.http), spent: snapshot.attempts };
      });
      const at = now();
      store.transaction(() => {
        let success = 0;
        let failed = 0;
        runs.forEach((result, i) => {
          const item = items[i]!;
          if (!result) {
            this.repo.settle(job, item.seq, 'skipped', item.attempts, null, 'the snapshot no longer exists');
            return;
          }
          const outcome = this.settle(job, item, result.run, result.spent, recorder, options, resolvedBy, flow, jobHex, at);
          if (outcome === 'resolved') success++;
          else if (outcome === 'failed') failed++;
        });
        store.addJobCounters(job, { numSuccess: success, numError: failed }, at);
        store.updateJob(job, { status: 'running', heartbeatAt: at }, at);
      });
      onProgress?.();
    }
    const at = now();
    store.updateJob(job, { status: 'completed', endedAt: at, ownerPid: null }, at);
    onProgress?.();
  }

  private settle(
    job: number,
    item: RetryItem,
    run: RecordRun,
    spentAutomatic: number,
    recorder: OutcomeRecorder,
    options: RetryJobOptions,
    resolvedBy: string,
    flow: CatalogFlow,
    jobHex: string,
    at: number,
  ): 'resolved' | 'failed' | 'postponed' {
    const first = run.outcomes[0]!;
    const latest = this.repo.latestOpenError(item.retryData);
    const ctx = {
      groupId: `${jobHex}-retry`,
      recordId: `${jobHex}-k${item.seq}`,
      traceKey: latest?.traceKey ?? undefined,
      oIndex: latest?.oIndex ?? undefined,
    };
    const attempts = item.attempts + 1;
    if (first.ok) {
      this.repo.resolveByRetryData(item.retryData, resolvedBy, at);
      // Steps after the retried one record their own outcomes (and new errors) as in a flow run.
      run.outcomes.forEach((o) => recorder.record(o, { ...ctx, recordId: `${ctx.recordId}-s${o.step.def.position}` }, at));
      if (flow.def.autoResolveMatchingTraceKeys && ctx.traceKey && run.succeeded) {
        this.repo.resolveMatchingTraceKey(flow.id, ctx.traceKey, Number.MAX_SAFE_INTEGER, at);
      }
      this.repo.settle(job, item.seq, 'resolved', attempts, null, null);
      return 'resolved';
    }
    const detail = `${first.classified.code}: ${first.classified.message}`.slice(0, 500);
    const backoff = options.backoff;
    if (backoff && attempts < backoff.maxAttempts && TRANSIENT.has(first.classified.classification)) {
      const retryAfter = first.failure.kind === 'status' ? first.failure.retryAfter : undefined;
      this.repo.postpone(job, item.seq, attempts, at + nextAttemptDelay(backoff, attempts, retryAfter, at), this.ctx.redactor.text(detail));
      return 'postponed';
    }
    // Final failure: the record's open errors are superseded by one new error that carries them on.
    // Automatic retries spend the step's policy (so a record that keeps failing stops being retried);
    // an operator's retry starts the automatic schedule over.
    const automaticAttempts = resolvedBy === 'auto' ? spentAutomatic + 1 : 0;
    this.repo.setAttempts(item.retryData, automaticAttempts);
    const carry = {
      retryData: item.retryData,
      attempts: automaticAttempts,
      tags: latest?.tags ? (JSON.parse(latest.tags) as string[]) : undefined,
      assignee: latest?.assignee,
      assignedBy: latest?.assignedBy,
      assigneeUser: latest?.assigneeUser,
    };
    this.repo.resolveByRetryData(item.retryData, SUPERSEDED_BY, at);
    let newError: number | undefined;
    run.outcomes.forEach((o, index) => {
      const id = recorder.record(o, { ...ctx, recordId: `${ctx.recordId}-s${o.step.def.position}` }, at, index === 0 ? carry : undefined);
      if (index === 0) newError = id;
    });
    this.repo.settle(job, item.seq, 'failed', attempts, newError ?? null, this.ctx.redactor.text(detail));
    return 'failed';
  }
}

export function backoffFromOptions(opts: Partial<BackoffPolicy> & { maxAttempts?: number }): BackoffPolicy & { maxAttempts: number } {
  return { ...DEFAULT_BACKOFF, maxAttempts: 5, ...opts };
}
