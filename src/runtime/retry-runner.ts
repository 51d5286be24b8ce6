import { setTimeout as sleep } from 'node:timers/promises';
import { nextAttemptDelay, type BackoffPolicy } from '../domain/backoff.js';
import { encodeId } from '../domain/ids.js';
import type { CatalogFlow } from '../flows/load.js';
import { RetryRepo, type LatestError, type RetryItem } from '../store/sqlite/retry-repo.js';
import { SUPERSEDED_BY } from '../store/contract/rows.js';
import type { SqliteCore } from '../store/sqlite/core.js';
import type { Store, StoreTx } from '../store/contract/store.js';
import type { HttpClient } from './http.js';
import type { RuntimeStep, SettledRun } from './pipeline.js';
import { senderInThread, senderThread, type SendItem, type SenderHandle, type SenderListener, type SenderSetup } from './record-sender.js';
import { OutcomeRecorder } from './recorder.js';

// A retry job re-feeds stored snapshots into the pipeline at their step, through the same code as
// a flow run. Outcomes commit per batch: a success resolves the record's open errors (resolvedBy =
// whoever retried) and a final failure records a new error with the same retryDataKey that carries
// the old one's tags and assignee, while the old one is superseded. A record whose errors someone
// resolved or deleted after the job was queued ends 'resolved_meanwhile' and its outcome changes no
// error. Killed mid-way, the job's unsettled items stay pending and the job resumes; nothing is
// resolved twice.

export interface RetryJobOptions {
  /** Exponential back-off between attempts of a transiently failing record. */
  backoff?: BackoffPolicy & { maxAttempts: number };
  /** Records per second at most, so a recovering target is not flooded. */
  ratePerSecond?: number;
}

export interface RetryRunContext {
  store: SqliteCore;
  /** The store through its contract (what the rest of the runner moves to). */
  ports: Store;
  http: HttpClient;
  redactor: import('../domain/mask.js').Redactor;
  now: () => number;
  /** Pending records from which a job sends from a worker thread (default SENDER_THREAD_FROM). */
  senderThreadFrom?: number;
}

export { SUPERSEDED_BY } from '../store/contract/rows.js';
const BATCH = 1000;
const COMMIT_SLICE = 1000;
/** Records handed to the sender ahead of their outcomes: enough to keep it busy through a commit. */
const WINDOW = 1024;
const FEED_CHUNK = 256;
/** A job with this many records or more sends from a thread of its own; a smaller one saves the thread's start-up. */
const SENDER_THREAD_FROM = 2000;
const HEARTBEAT_MS = 30_000;

interface Plan {
  item: RetryItem;
  run: SettledRun;
  spent: number;
  traceKey: string | null;
  kind: 'resolved' | 'postponed' | 'failed';
}

interface Settled {
  item: RetryItem;
  run: SettledRun | undefined;
  snapshot: { data: string; attempts: number; traceKey: string | null } | undefined;
}

/** What the passes of one job run share: the cancel flag, and where the sender's reports go. */
interface JobRunState {
  canceled: boolean;
  listener: SenderListener;
  onFault?: ((e: Error) => void) | undefined;
  /** A fault of the sender between passes, thrown by the next one. */
  fault?: Error;
}
const TRANSIENT = new Set(['intermittent', 'rate_limit', 'connection']);

/**
 * The items of a job due at the start of a pass, read BATCH at a time in (next_at, seq) order
 * behind a cursor, so a batch can be read while the previous one is in flight. An item postponed
 * during the pass lands behind the cursor or is picked up by the next pass.
 */
class DuePass {
  private buffer: Array<{ item: RetryItem; snapshot: Settled['snapshot'] }> = [];
  private index = 0;
  private after = { nextAt: -1, seq: -1 };
  private exhausted = false;

  constructor(private readonly repo: RetryRepo, private readonly job: number, private readonly now: () => number) {}

  take(): { item: RetryItem; snapshot: Settled['snapshot'] } | undefined {
    if (this.index >= this.buffer.length && !this.exhausted) this.read();
    return this.buffer[this.index++];
  }

  private read(): void {
    const items = this.repo.dueItems(this.job, this.now(), BATCH, this.after);
    if (items.length < BATCH) this.exhausted = true;
    this.index = 0;
    this.buffer = [];
    if (items.length === 0) return;
    const last = items[items.length - 1]!;
    this.after = { nextAt: last.nextAt, seq: last.seq };
    // One read for the batch's snapshots (absent: resolved or deleted meanwhile, so not re-sent).
    const snapshots = this.repo.snapshots(items.map((i) => i.retryData));
    this.buffer = items.map((item) => ({ item, snapshot: snapshots.get(item.retryData) }));
  }
}

export class RetryRunner {
  private readonly repo: RetryRepo;

  constructor(private readonly ctx: RetryRunContext) {
    this.repo = new RetryRepo(ctx.store);
  }

  /**
   * Queues a retry job for the snapshots; undefined when none is left to retry (the API's 204).
   * Inside a caller's transaction (`within`), it joins it.
   */
  queue(flowId: string, step: number, retryData: readonly number[], triggeredBy: string, options: RetryJobOptions, within?: StoreTx): Promise<number | undefined> {
    const now = this.ctx.now();
    return (within ?? this.ctx.ports).withTransaction(async (tx) => {
      const busy = await tx.retries.pendingElsewhere(retryData);
      const todo = retryData.filter((rd) => !busy.has(rd));
      if (todo.length === 0) return undefined;
      const job = await tx.jobs.insertJob({ type: 'retry', status: 'queued', flowId, step, createdAt: now, triggeredBy, options });
      await tx.retries.insertItems(job, todo);
      await tx.auditLog.audit({ at: now, actor: triggeredBy, action: 'retry', flowId, count: todo.length, detail: { job, retryData: todo.length, alreadyQueued: busy.size } });
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
    const logging = flow.def.logging?.mode === 'full';
    const recorder = new OutcomeRecorder(store, this.ctx.redactor, job, logging);
    const resolvedBy = row.triggeredBy ?? 'auto';
    const jobHex = encodeId('job', job, row.createdAt);
    const state: JobRunState = { canceled: false, listener: () => {} };
    const setup: SenderSetup = {
      steps,
      options: { concurrency: Math.max(1, steps[0]!.connection.concurrency), ratePerSecond: options.ratePerSecond, logging },
      listener: (results, clean, drained) => state.listener(results, clean, drained),
      onError: (e) => {
        state.fault ??= e;
        state.onFault?.(e);
      },
    };
    const threaded = this.repo.pendingCount(job) >= (this.ctx.senderThreadFrom ?? SENDER_THREAD_FROM);
    const sender = threaded ? await senderThread(setup, this.ctx.redactor) : senderInThread(setup, this.ctx.http, this.ctx.redactor);
    // Liveness apart from progress: a slow, rate-limited job must not look dead to recovery.
    const heartbeat = setInterval(() => {
      try {
        store.updateJob(job, { heartbeatAt: now() }, now());
      } catch {
        // busy past the timeout: the next beat (or the next commit) tries again
      }
    }, HEARTBEAT_MS);
    heartbeat.unref();
    try {
      while (!state.canceled) {
        if (this.isCancelRequested(job)) break;
        await this.runPass(job, steps, sender, state, (slice) => this.commit(job, slice, recorder, options, resolvedBy, flow, jobHex), onProgress);
        if (state.canceled) break;
        // Nothing is due now: the rest waits out its back-off.
        const nextDue = this.repo.nextDueAt(job);
        if (nextDue === undefined) break;
        store.setJobStatusIf(job, ['running'], 'retrying', now());
        onProgress?.();
        await sleep(Math.min(1000, Math.max(10, nextDue - now())));
      }
    } catch (e) {
      // Not a record's failure (those are outcomes) but the job's: it ends failed, saying why, and
      // releases its pending records, whose errors stay open for another retry.
      const note = `runtime error: ${(e as Error).message}`;
      const at = now();
      // Together when the store takes it; else the job's own row alone, and the items it could not
      // release are released by the next recovery (open or worker tick) once the store takes writes.
      const end = () => store.updateJob(job, { status: 'failed', endedAt: at, ownerPid: null, note }, at);
      try {
        store.transaction(() => {
          this.repo.skipPending(job, note);
          end();
        });
      } catch {
        try {
          store.transaction(end);
        } catch {
          // the store refuses every write: recovery re-queues the job once this process is gone
        }
      }
      onProgress?.();
      throw e;
    } finally {
      clearInterval(heartbeat);
      await sender.close();
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
   * One pass over the items due now: the sender gets up to WINDOW records ahead, the next batch is
   * read while earlier ones are in flight (so the pipeline never drains between batches), and
   * outcomes commit in slices while later requests are still out. Every commit, and a timer while
   * a slow job waits on its target, look for a cancel; after one, nothing more is sent.
   */
  private runPass(job: number, steps: RuntimeStep[], sender: SenderHandle, state: JobRunState, commitSlice: (slice: Settled[]) => void, onProgress?: () => void): Promise<void> {
    const pass = new DuePass(this.repo, job, this.ctx.now);
    const inFlight = new Map<number, { item: RetryItem; snapshot: Settled['snapshot'] }>();
    // A clean success's outcome is reported without its timing, which only execution logs keep.
    const cleanRun: SettledRun = { succeeded: true, outcomes: [{ ok: true, step: steps[0]!, startedAt: 0, timeTaken: 0 }] };
    let exhausted = false;
    let settled: Settled[] = [];
    return new Promise<void>((resolve, reject) => {
      let finished = false;
      const finish = (error?: Error) => {
        if (finished) return;
        finished = true;
        clearInterval(cancelWatch);
        state.onFault = undefined;
        if (!error) return resolve();
        // A fault stops the job: nothing more is sent, and what already came back is kept if the
        // store still takes it (records in flight stay pending; the job is settled by run()).
        state.canceled = true;
        sender.cancel();
        try {
          if (settled.length > 0) commitSlice(settled.splice(0));
        } catch {
          // the store is what failed: the fault below says so
        }
        reject(error);
      };
      const lookForCancel = () => {
        if (!state.canceled && this.isCancelRequested(job)) {
          state.canceled = true;
          sender.cancel();
        }
      };
      const watchForCancel = () => {
        try {
          // A slow job (a rate limit, a slow target) commits what came back at least this often,
          // so its progress shows long before a slice of COMMIT_SLICE fills up.
          if (settled.length > 0) commit();
          else lookForCancel();
        } catch (e) {
          finish(e as Error);
        }
      };
      const commit = () => {
        const slice = settled;
        settled = [];
        if (slice.length > 0) commitSlice(slice);
        lookForCancel();
        onProgress?.();
      };
      const feed = () => {
        // In chunks, not a record per settled one: each push is a message to the sender's thread.
        if (inFlight.size > WINDOW - FEED_CHUNK) return;
        const batch: SendItem[] = [];
        while (!state.canceled && inFlight.size < WINDOW) {
          const next = pass.take();
          if (!next) {
            exhausted = true;
            break;
          }
          // Resolved or deleted since it was queued: settled as skipped, never re-sent.
          if (!next.snapshot) settled.push({ item: next.item, run: undefined, snapshot: undefined });
          else {
            inFlight.set(next.item.seq, next);
            batch.push({ ref: next.item.seq, data: next.snapshot.data });
          }
        }
        if (batch.length > 0) sender.push(batch);
      };
      const settle = (drained: boolean) => {
        if ((exhausted && inFlight.size === 0) || (state.canceled && drained)) {
          commit();
          finish();
        }
      };
      const cancelWatch = setInterval(watchForCancel, 250);
      state.onFault = (e) => finish(e);
      state.listener = (results, clean, drained) => {
        if (finished) return;
        try {
          const settleOne = (ref: number, run: SettledRun) => {
            const entry = inFlight.get(ref);
            if (!entry) return;
            inFlight.delete(ref);
            settled.push({ ...entry, run });
            if (settled.length >= COMMIT_SLICE) commit();
          };
          for (const ref of clean) settleOne(ref, cleanRun);
          for (const { ref, run } of results) settleOne(ref, { succeeded: run.succeeded, outcomes: run.outcomes.map((o) => ({ ...o, step: steps[o.step]! })) });
          feed();
          settle(drained);
        } catch (e) {
          // A commit that fails (the store is gone, a lock held past the busy timeout) stops the job.
          finish(e as Error);
        }
      };
      if (state.fault) return finish(state.fault);
      try {
        feed();
        settle(false);
      } catch (e) {
        finish(e as Error);
      }
    });
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
      const all: Plan[] = [];
      let meanwhile = 0;
      for (const { item, run, snapshot } of slice) {
        if (run && snapshot) all.push({ item, run, spent: snapshot.attempts, traceKey: snapshot.traceKey, kind: this.classify(item, run, options) });
        else {
          this.repo.settle(job, item.seq, 'resolved_meanwhile', item.attempts, null, 'resolved or deleted before it was sent');
          meanwhile++;
        }
      }
      // Decided here, in the transaction that records the outcomes: a record whose errors someone
      // resolved or deleted while its request was out keeps that state. Its outcome reopens
      // nothing, resolves nothing again and writes no new error (which would drop the triage data).
      const needCarry = all.filter((p) => p.kind !== 'resolved' || recorder.logging).map((p) => p.item.retryData);
      const latest = needCarry.length > 0 ? this.repo.latestOpenErrors(needCarry) : new Map<number, LatestError>();
      const resolvedPlans = all.filter((p) => p.kind === 'resolved');
      // Old errors leave the open list before the new ones (same retryDataKey) are written.
      const stillOpen = resolvedPlans.length > 0 ? this.repo.resolveManyByRetryData(resolvedPlans.map((p) => p.item.retryData), resolvedBy, at) : new Set<number>();
      const plans = all.filter((p) => (p.kind === 'resolved' ? stillOpen.has(p.item.retryData) : latest.has(p.item.retryData)));
      const kept = new Set(plans);
      for (const plan of all) {
        if (kept.has(plan)) continue;
        meanwhile++;
        const first = plan.run.outcomes[0]!;
        const outcome = first.ok ? 'it got through' : `it failed again (${first.classified.code}: ${first.classified.message})`;
        this.repo.settle(job, plan.item.seq, 'resolved_meanwhile', plan.item.attempts + 1, null, this.ctx.redactor.text(`resolved or deleted while it was being retried; ${outcome}`.slice(0, 500)));
        // The attempt is still logged; what it did downstream of the resolved step is a fact of its own.
        const ctx = (o: (typeof plan.run.outcomes)[number]) => ({ groupId: `${jobHex}-retry`, recordId: `${jobHex}-k${plan.item.seq}-s${o.step.def.position}`, traceKey: plan.traceKey ?? undefined });
        if (!first.ok) recorder.log(first, ctx(first));
        else if (recorder.logging || plan.run.outcomes.length > 1) plan.run.outcomes.forEach((o) => recorder.record(o, ctx(o), at));
      }
      const resolved = plans.filter((p) => p.kind === 'resolved');
      const failed = plans.filter((p) => p.kind === 'failed');
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
      store.addJobCounters(job, { numSuccess: resolved.length, numError: failed.length, numIgnore: meanwhile }, at);
      // Back to running after a back-off wait, but never over a cancel request.
      store.setJobStatusIf(job, ['running', 'retrying'], 'running', at);
      store.updateJob(job, { heartbeatAt: at }, at);
    });
  }

  /** What a record's run means for its item: resolved, postponed (back-off) or failed for good. */
  private classify(item: RetryItem, run: SettledRun, options: RetryJobOptions): Plan['kind'] {
    const first = run.outcomes[0]!;
    if (first.ok) return 'resolved';
    const backoff = options.backoff;
    if (backoff && item.attempts + 1 < backoff.maxAttempts && TRANSIENT.has(first.classified.classification)) return 'postponed';
    return 'failed';
  }
}

