import { nextAttemptDelay, type BackoffPolicy } from '../domain/backoff.js';
import { encodeId } from '../domain/ids.js';
import type { CatalogFlow } from '../flows/load.js';
import { RetryRepo, type LatestError, type RetryItem } from '../store/retry-repo.js';
import { SUPERSEDED_BY } from '../store/rows.js';
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

export { SUPERSEDED_BY } from '../store/rows.js';
const BATCH = 1000;
const COMMIT_SLICE = 250;
const HEARTBEAT_MS = 30_000;

interface Plan {
  item: RetryItem;
  run: RecordRun;
  spent: number;
  traceKey: string | null;
  kind: 'resolved' | 'postponed' | 'failed';
}

interface Settled {
  item: RetryItem;
  run: RecordRun | undefined;
  snapshot: { data: string; attempts: number; traceKey: string | null } | undefined;
}
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
    if (start < 0 || allSteps[start]!.def.kind === 'export') {
      // The step left the flow file (or is a page generator): its snapshots have nowhere to go.
      const at = now();
      store.transaction(() => {
        this.repo.skipPending(job, 'the step is no longer a page processor of the flow');
        store.updateJob(job, { status: 'failed', endedAt: at, ownerPid: null, note: 'the step is no longer a page processor of the flow' }, at);
      });
      onProgress?.();
      return;
    }
    const steps = allSteps.slice(start);
    const recorder = new OutcomeRecorder(store, this.ctx.redactor, job, flow.def.logging?.mode === 'full');
    const limiter = options.ratePerSecond ? new RateLimiter(options.ratePerSecond) : undefined;
    const concurrency = Math.max(1, steps[0]!.connection.concurrency);
    const resolvedBy = row.triggeredBy ?? 'auto';
    const jobHex = encodeId('job', job, row.createdAt);
    // Liveness apart from progress: a slow, rate-limited job must not look dead to recovery.
    const heartbeat = setInterval(() => store.updateJob(job, { heartbeatAt: now() }, now()), HEARTBEAT_MS);
    heartbeat.unref();
    let canceled = false;
    let checkedAt = 0;
    // Before each send, at most every 250 ms: a cancel stops a slow (rate-limited) job promptly.
    const cancelRequested = (): boolean => {
      if (!canceled && now() - checkedAt >= 250) {
        checkedAt = now();
        canceled = this.isCancelRequested(job);
      }
      return canceled;
    };
    try {
      while (!canceled) {
        if (this.isCancelRequested(job)) break;
        const items = this.repo.dueItems(job, now(), BATCH);
        if (items.length === 0) {
          const nextDue = this.repo.nextDueAt(job);
          if (nextDue === undefined) break;
          store.setJobStatusIf(job, ['running'], 'retrying', now());
          onProgress?.();
          await sleep(Math.min(1000, Math.max(10, nextDue - now())));
          continue;
        }
        // One read for the batch's snapshots; outcomes commit in slices while later requests are
        // still in flight, so the HTTP and the store work overlap. Each commit also looks for a
        // cancel, after which no further request is sent.
        const snapshots = this.repo.snapshots(items.map((i) => i.retryData));
        let settled: Settled[] = [];
        const commit = () => {
          const slice = settled;
          settled = [];
          if (slice.length > 0) this.commit(job, slice, recorder, options, resolvedBy, flow, jobHex);
          canceled ||= this.isCancelRequested(job);
          onProgress?.();
        };
        await mapLimit(items, concurrency, async (item) => {
          if (cancelRequested()) return;
          await limiter?.take();
          if (cancelRequested()) return;
          const snapshot = snapshots.get(item.retryData);
          const run = snapshot ? await runRecord(steps, JSON.parse(snapshot.data), this.ctx.http) : undefined;
          settled.push({ item, run, snapshot });
          if (settled.length >= COMMIT_SLICE) commit();
        });
        commit();
      }
    } finally {
      clearInterval(heartbeat);
    }
    const at = now();
    store.transaction(() => {
      if (this.isCancelRequested(job)) {
        this.repo.skipPending(job, 'canceled before it was retried');
        store.updateJob(job, { status: 'canceled', endedAt: at, ownerPid: null }, at);
      } else {
        store.updateJob(job, { status: 'completed', endedAt: at, ownerPid: null }, at);
      }
    });
    onProgress?.();
  }

  /**
   * Settles a slice of records in one transaction. Reads (carry-over of the records' latest
   * errors) and the moves of old errors to resolved happen once per slice in set-based statements;
   * only what is new per record (a new error, its trace, log entries) is written row by row.
   */
  private commit(job: number, slice: Settled[], recorder: OutcomeRecorder, options: RetryJobOptions, resolvedBy: string, flow: CatalogFlow, jobHex: string): void {
    const { store } = this.ctx;
    const at = this.ctx.now();
    store.transaction(() => {
      const plans: Plan[] = [];
      for (const { item, run, snapshot } of slice) {
        if (!run || !snapshot) this.repo.settle(job, item.seq, 'skipped', item.attempts, null, 'resolved or deleted before it was retried');
        else plans.push({ item, run, spent: snapshot.attempts, traceKey: snapshot.traceKey, kind: this.classify(item, run, options) });
      }
      const needCarry = plans.filter((p) => p.kind === 'failed' || recorder.logging).map((p) => p.item.retryData);
      const latest = needCarry.length > 0 ? this.repo.latestOpenErrors(needCarry) : new Map<number, LatestError>();
      const resolved = plans.filter((p) => p.kind === 'resolved');
      const failed = plans.filter((p) => p.kind === 'failed');
      // Old errors leave the open list before the new ones (same retryDataKey) are written.
      if (resolved.length > 0) this.repo.resolveManyByRetryData(resolved.map((p) => p.item.retryData), resolvedBy, at);
      if (failed.length > 0) this.repo.resolveManyByRetryData(failed.map((p) => p.item.retryData), SUPERSEDED_BY, at);
      const simple: number[] = [];
      for (const plan of plans) {
        const { item, run } = plan;
        const carried = latest.get(item.retryData);
        const ctx = {
          groupId: `${jobHex}-retry`,
          recordId: `${jobHex}-k${item.seq}`,
          traceKey: carried?.traceKey ?? plan.traceKey ?? undefined,
          oIndex: carried?.oIndex ?? undefined,
        };
        const attempts = item.attempts + 1;
        const first = run.outcomes[0]!;
        if (plan.kind === 'resolved') {
          if (recorder.logging || run.outcomes.length > 1 || !run.succeeded) {
            // Steps after the retried one record their own outcomes (and new errors) as in a flow run.
            run.outcomes.forEach((o) => recorder.record(o, { ...ctx, recordId: `${ctx.recordId}-s${o.step.def.position}` }, at));
          }
          if (flow.def.autoResolveMatchingTraceKeys && ctx.traceKey && run.succeeded) {
            this.repo.resolveMatchingTraceKey(flow.id, ctx.traceKey, Number.MAX_SAFE_INTEGER, at);
          }
          simple.push(item.seq);
          continue;
        }
        if (first.ok) continue; // unreachable: a first step that succeeded is 'resolved'
        const detail = this.ctx.redactor.text(`${first.classified.code}: ${first.classified.message}`.slice(0, 500));
        if (plan.kind === 'postponed') {
          const retryAfter = first.failure.kind === 'status' ? first.failure.retryAfter : undefined;
          this.repo.postpone(job, item.seq, attempts, at + nextAttemptDelay(options.backoff!, attempts, retryAfter, at), detail);
          continue;
        }
        // Final failure: one new error carries the superseded one's tags and assignee on.
        // Automatic retries spend the step's policy (so a record that keeps failing stops being
        // retried); an operator's retry starts the automatic schedule over.
        const automaticAttempts = resolvedBy === 'auto' ? plan.spent + 1 : 0;
        if (automaticAttempts !== plan.spent) this.repo.setAttempts(item.retryData, automaticAttempts);
        const carry = {
          retryData: item.retryData,
          attempts: automaticAttempts,
          tags: carried?.tags ? (JSON.parse(carried.tags) as string[]) : undefined,
          assignee: carried?.assignee,
          assignedBy: carried?.assignedBy,
          assigneeUser: carried?.assigneeUser,
        };
        let newError: number | undefined;
        run.outcomes.forEach((o, index) => {
          const id = recorder.record(o, { ...ctx, recordId: `${ctx.recordId}-s${o.step.def.position}` }, at, index === 0 ? carry : undefined);
          if (index === 0) newError = id;
        });
        this.repo.settle(job, item.seq, 'failed', attempts, newError ?? null, detail);
      }
      if (simple.length > 0) this.repo.settleResolved(job, simple);
      store.addJobCounters(job, { numSuccess: resolved.length, numError: failed.length }, at);
      // Back to running after a back-off wait, but never over a cancel request.
      store.setJobStatusIf(job, ['running', 'retrying'], 'running', at);
      store.updateJob(job, { heartbeatAt: at }, at);
    });
  }

  /** What a record's run means for its item: resolved, postponed (back-off) or failed for good. */
  private classify(item: RetryItem, run: RecordRun, options: RetryJobOptions): Plan['kind'] {
    const first = run.outcomes[0]!;
    if (first.ok) return 'resolved';
    const backoff = options.backoff;
    if (backoff && item.attempts + 1 < backoff.maxAttempts && TRANSIENT.has(first.classified.classification)) return 'postponed';
    return 'failed';
  }
}

