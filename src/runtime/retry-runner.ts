import { setTimeout as sleep } from 'node:timers/promises';
import { nextAttemptDelay, type BackoffPolicy } from '../domain/backoff.js';
import { encodeId } from '../domain/ids.js';
import type { CatalogFlow } from '../flows/load.js';
import type { LatestError, RetryItem } from '../store/contract/queries.js';
import { SUPERSEDED_BY } from '../store/contract/rows.js';
import type { Store, StoreTx } from '../store/contract/store.js';
import type { HttpClient } from './http.js';
import type { RuntimeStep, SettledRun } from './pipeline.js';
import { senderInThread, senderThread, type SendItem, type SenderHandle, type SenderListener, type SenderSetup } from './record-sender.js';
import { OutcomeRecorder } from './recorder.js';
import { WORKER_IDENTITY } from './worker-identity.js';

// A retry job re-feeds stored snapshots into the pipeline at their step, through the same code as
// a flow run. Outcomes commit per slice: a success resolves the record's open errors (resolvedBy =
// whoever retried) and a final failure records a new error with the same retryDataKey that carries
// the old one's tags and assignee, while the old one is superseded. A record whose errors someone
// resolved or deleted after the job was queued ends 'resolved_meanwhile' and its outcome changes no
// error. Killed mid-way, the job's unsettled items stay pending and the job resumes; nothing is
// resolved twice.
//
// Items are claimed (a lease per item, LEASE_MS, renewed every HEARTBEAT_MS) before they are sent,
// so several runners (workers on any hosts, when the store shares workers) can work one job: no
// item is ever out with two of them at once. A runner killed with SIGKILL keeps its leases until
// they expire; then another claims those items. A record whose request the dead runner may have
// sent but whose outcome it had not committed is sent again then: delivery is at least once, and
// the window is the records in flight (at most WINDOW) of a runner that dies — or that stalls past
// its lease without renewing it, which the others cannot tell from death. Whoever finds no pending
// item left ends the job, with a conditional status move, so it ends exactly once.

export interface RetryJobOptions {
  /** Exponential back-off between attempts of a transiently failing record. */
  backoff?: BackoffPolicy & { maxAttempts: number };
  /** Records per second at most, so a recovering target is not flooded. */
  ratePerSecond?: number;
}

export interface RetryRunContext {
  store: Store;
  http: HttpClient;
  redactor: import('../domain/mask.js').Redactor;
  now: () => number;
  /** Pending records from which a job sends from a worker thread (default SENDER_THREAD_FROM). */
  senderThreadFrom?: number;
  /** Who claims the items (default this process's worker id); two runners of one process with two owners act as two workers. */
  owner?: string;
}

export { SUPERSEDED_BY } from '../store/contract/rows.js';
const BATCH = 1000;
const COMMIT_SLICE = 1000;
/** Records handed to the sender ahead of their outcomes: enough to keep it busy through a commit. */
const WINDOW = 1024;
const FEED_CHUNK = 256;
/** A job with this many records or more sends from a thread of its own; a smaller one saves the thread's start-up. */
const SENDER_THREAD_FROM = 2000;
/** How long a claimed item stays this runner's without a renewal: past it, another runner may claim it. */
export const LEASE_MS = 30_000;
/** Leases and the job's liveness are renewed this often: three beats fit in a lease. */
export const HEARTBEAT_MS = 10_000;
/** How often a runner whose job's remaining items other runners hold looks again. */
const PEERS_WAIT_MS = 500;
const TERMINAL = new Set(['completed', 'failed', 'canceled']);

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

type Due = { item: RetryItem; snapshot: Settled['snapshot'] };

/** What the passes of one job run share: the cancel flag, and where the sender's reports go. */
interface JobRunState {
  /** Nothing more is sent: a cancel, a fault, or this worker stopping. */
  canceled: boolean;
  listener: SenderListener;
  onFault?: ((e: Error) => void) | undefined;
  /** A fault of the sender between passes, thrown by the next one. */
  fault?: Error;
}
const TRANSIENT = new Set(['intermittent', 'rate_limit', 'connection']);

/**
 * The items of a job due at the start of a pass, claimed BATCH at a time in (next_at, seq) order
 * behind a cursor. The next batch is claimed (with its snapshots) while this one is handed out, so
 * the sender never waits on the store. An item postponed during the pass lands behind the cursor or
 * is picked up by the next pass; items other runners hold are skipped.
 */
class DuePass {
  private buffer: Due[] = [];
  private index = 0;
  private after = { nextAt: -1, seq: -1 };
  private exhausted = false;
  private ahead: Promise<Due[]> | undefined;
  /** Items this pass claimed. */
  claimed = 0;

  constructor(private readonly store: Store, private readonly job: number, private readonly owner: string, private readonly now: () => number) {}

  /** The next item, or undefined when the pass has none left. */
  async take(): Promise<Due | undefined> {
    if (this.index >= this.buffer.length) {
      if (!this.ahead && this.exhausted) return undefined;
      this.buffer = await (this.ahead ?? this.read());
      this.ahead = undefined;
      this.index = 0;
      if (this.buffer.length === 0) return undefined;
    }
    const next = this.buffer[this.index++];
    if (!this.ahead && !this.exhausted && this.index * 2 >= this.buffer.length) {
      this.ahead = this.read();
      this.ahead.catch(() => {}); // a failed read surfaces where it is awaited
    }
    return next;
  }

  private async read(): Promise<Due[]> {
    const now = this.now();
    const items = await this.store.retries.claimDueItems(this.job, this.owner, now, BATCH, now + LEASE_MS, this.after);
    if (items.length < BATCH) this.exhausted = true;
    if (items.length === 0) return [];
    this.claimed += items.length;
    const last = items[items.length - 1]!;
    this.after = { nextAt: last.nextAt, seq: last.seq };
    // One read for the batch's snapshots (absent: resolved or deleted meanwhile, so not re-sent).
    const snapshots = await this.store.retries.snapshots(items.map((i) => i.retryData));
    return items.map((item) => ({ item, snapshot: snapshots.get(item.retryData) }));
  }
}

export class RetryRunner {
  private readonly owner: string;

  constructor(private readonly ctx: RetryRunContext) {
    this.owner = ctx.owner ?? WORKER_IDENTITY.id;
  }

  /**
   * Queues a retry job for the snapshots; undefined when none is left to retry (the API's 204).
   * Inside a caller's transaction (`within`), it joins it.
   */
  queue(flowId: string, step: number, retryData: readonly number[], triggeredBy: string, options: RetryJobOptions, within?: StoreTx): Promise<number | undefined> {
    const now = this.ctx.now();
    return (within ?? this.ctx.store).withTransaction(async (tx) => {
      const busy = await tx.retries.pendingElsewhere(retryData);
      const todo = retryData.filter((rd) => !busy.has(rd));
      if (todo.length === 0) return undefined;
      const job = await tx.jobs.insertJob({ type: 'retry', status: 'queued', flowId, step, createdAt: now, triggeredBy, options });
      await tx.retries.insertItems(job, todo);
      await tx.auditLog.audit({ at: now, actor: triggeredBy, action: 'retry', flowId, count: todo.length, detail: { job, retryData: todo.length, alreadyQueued: busy.size } });
      return job;
    });
  }

  private async isCancelRequested(job: number): Promise<boolean> {
    const status = (await this.ctx.store.jobs.getJob(job))?.status;
    return status === 'canceling' || status === 'canceled';
  }

  /**
   * Takes a job for this runner; false when it cannot run here. On a store of one worker (SQLite)
   * only a queued job is taken, and it becomes this process's. Where workers share jobs, a runner
   * joins any active job (queued ones move to running once, by whoever comes first).
   */
  claim(job: number): Promise<boolean> {
    const now = this.ctx.now();
    const shared = this.ctx.store.sharedWorkers;
    return this.ctx.store.withTransaction(async (tx) => {
      const row = await tx.jobs.getJob(job);
      if (!row) return false;
      if (await tx.jobs.setJobStatusIf(job, ['queued'], 'running', now)) {
        await tx.jobs.updateJob(job, { startedAt: row.startedAt ?? now, ownerPid: process.pid, heartbeatAt: now }, now);
        return true;
      }
      // Another runner started it first (or it ended): where workers share jobs, this one joins it.
      const status = (await tx.jobs.getJob(job))?.status;
      return shared && (status === 'running' || status === 'retrying');
    });
  }

  /**
   * Runs the job's items until none is left (or a cancel, or `stop`: this runner then stops sending,
   * commits what came back, gives its unsent items back and leaves the job to others or a resume).
   */
  async run(job: number, flow: CatalogFlow, allSteps: RuntimeStep[], onProgress?: () => void, stop?: AbortSignal): Promise<void> {
    const { store, now } = this.ctx;
    const row = (await store.jobs.getJob(job))!;
    const options = (row.options ? JSON.parse(row.options) : {}) as RetryJobOptions;
    const start = allSteps.findIndex((s) => s.key === row.step);
    if (start < 0 || allSteps[start]!.def.kind === 'export') {
      // The step left the flow file (or is a page generator): its snapshots have nowhere to go.
      const at = now();
      const note = 'the step is no longer a page processor of the flow';
      await store.withTransaction(async (tx) => {
        await tx.retries.skipPending(job, note);
        if (await tx.jobs.setJobStatusIf(job, ['queued', 'running', 'retrying', 'canceling'], 'failed', at)) await tx.jobs.updateJob(job, { endedAt: at, ownerPid: null, note }, at);
      });
      onProgress?.();
      return;
    }
    const steps = allSteps.slice(start);
    const logging = flow.def.logging?.mode === 'full';
    const recorder = new OutcomeRecorder(this.ctx.redactor, job, logging);
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
    const threaded = (await store.retries.pendingCount(job)) >= (this.ctx.senderThreadFrom ?? SENDER_THREAD_FROM);
    const sender = threaded ? await senderThread(setup, this.ctx.redactor) : senderInThread(setup, this.ctx.http, this.ctx.redactor);
    // Liveness apart from progress: the items' leases, and the job's heartbeat (a slow,
    // rate-limited job must not look dead to recovery).
    const heartbeat = setInterval(() => {
      const at = now();
      store
        .withTransaction(async (tx) => {
          await tx.retries.renewItemLeases(job, this.owner, at + LEASE_MS);
          await tx.jobs.updateJob(job, { heartbeatAt: at }, at);
        })
        .catch(() => {}); // busy or unreachable: the next beat (or the next commit) tries again
    }, HEARTBEAT_MS);
    heartbeat.unref();
    // A stop sends nothing more but lets the requests out come back, so their outcomes commit.
    const onStop = () => {
      state.canceled = true;
      sender.cancel(false);
    };
    stop?.addEventListener('abort', onStop);
    try {
      while (!state.canceled && !stop?.aborted) {
        if (await this.isCancelRequested(job)) break;
        const claimed = await this.runPass(job, steps, sender, state, (slice) => this.commit(job, slice, recorder, options, resolvedBy, flow, jobHex), onProgress);
        if (state.canceled) break;
        // Nothing is due now: the rest waits out its back-off, or is out with other runners.
        const nextDue = await store.retries.nextDueAt(job);
        if (nextDue === undefined) break;
        const at = now();
        await store.jobs.setJobStatusIf(job, ['running'], 'retrying', at);
        onProgress?.();
        const wait = nextDue > at ? Math.min(1000, nextDue - at) : claimed > 0 ? 10 : PEERS_WAIT_MS;
        await sleep(Math.max(10, wait));
      }
    } catch (e) {
      // Not a record's failure (those are outcomes) but the job's: it ends failed, saying why, and
      // releases its pending records, whose errors stay open for another retry.
      const note = `runtime error: ${(e as Error).message}`;
      const at = now();
      const active = ['queued', 'running', 'retrying', 'canceling'] as const;
      // Together when the store takes it; else the job's own row alone, and the items it could not
      // release are released by the next recovery (open or worker tick) once the store takes writes.
      const end = async (tx: StoreTx) => {
        if (await tx.jobs.setJobStatusIf(job, active, 'failed', at)) await tx.jobs.updateJob(job, { endedAt: at, ownerPid: null, note }, at);
      };
      try {
        await store.withTransaction(async (tx) => {
          await tx.retries.skipPending(job, note);
          await end(tx);
        });
      } catch {
        try {
          await store.withTransaction(end);
        } catch {
          // the store refuses every write: recovery re-queues the job once this process is gone
        }
      }
      onProgress?.();
      throw e;
    } finally {
      stop?.removeEventListener('abort', onStop);
      clearInterval(heartbeat);
      await sender.close();
    }
    await this.end(job, stop);
    onProgress?.();
  }

  /**
   * After this runner's last pass: it gives back the items it claimed but did not send, and ends
   * the job when nothing is left pending: completed, or, after a cancel, canceled with the rest
   * settled as skipped — by the last runner, once no other holds a live lease (a peer stops within
   * a commit slice; a dead one's leases expire). The conditional status move makes it happen once.
   */
  private async end(job: number, stop?: AbortSignal): Promise<void> {
    const { store, now } = this.ctx;
    await store.retries.releaseItemLeases(job, this.owner);
    for (;;) {
      const done = await store.withTransaction(async (tx) => {
        const row = await tx.jobs.getJob(job);
        if (!row || TERMINAL.has(row.status)) return true;
        const at = now();
        const canceling = row.status === 'canceling';
        if ((await tx.retries.pendingCount(job)) > 0) {
          // A stop with work left: other runners, or the resume after a restart, finish it.
          if (!canceling) return true;
          if ((await tx.retries.liveLeases(job, at)) > 0) return false;
          await tx.retries.skipPending(job, 'canceled before it was retried');
        }
        const moved = canceling ? await tx.jobs.setJobStatusIf(job, ['canceling'], 'canceled', at) : await tx.jobs.setJobStatusIf(job, ['queued', 'running', 'retrying'], 'completed', at);
        if (moved) await tx.jobs.updateJob(job, { endedAt: at, ownerPid: null }, at);
        return true;
      });
      if (done || stop?.aborted) return;
      await sleep(PEERS_WAIT_MS);
    }
  }

  /**
   * One pass over the items due now: the sender gets up to WINDOW records ahead, the next batch is
   * claimed while earlier ones are in flight (so the pipeline never drains between batches), and
   * outcomes commit in slices, one after the other, while later requests are still out. Every
   * commit, and a timer while a slow job waits on its target, look for a cancel; after one, nothing
   * more is sent. Resolves with how many items the pass claimed.
   */
  private runPass(job: number, steps: RuntimeStep[], sender: SenderHandle, state: JobRunState, commitSlice: (slice: Settled[]) => Promise<void>, onProgress?: () => void): Promise<number> {
    const pass = new DuePass(this.ctx.store, job, this.owner, this.ctx.now);
    const inFlight = new Map<number, Due>();
    // A clean success's outcome is reported without its timing, which only execution logs keep.
    const cleanRun: SettledRun = { succeeded: true, outcomes: [{ ok: true, step: steps[0]!, startedAt: 0, timeTaken: 0 }] };
    let exhausted = false;
    let settled: Settled[] = [];
    /** Outcomes not committed yet (collected or in a commit under way): they count against the window. */
    let uncommitted = 0;
    let committing: Promise<void> = Promise.resolve();
    let feeding = false;
    /** The sender reported, after a cancel, that no request is left out. */
    let drained = false;
    return new Promise<number>((resolve, reject) => {
      // Stopped between passes: nothing is claimed.
      if (state.canceled) return resolve(0);
      let finished = false;
      const finish = (error?: Error) => {
        if (finished) return;
        finished = true;
        clearInterval(cancelWatch);
        state.onFault = undefined;
        if (!error) return void committing.then(() => resolve(pass.claimed), reject);
        // A fault stops the job: nothing more is sent, and what already came back is kept if the
        // store still takes it (records in flight stay pending; the job is settled by run()).
        state.canceled = true;
        sender.cancel();
        const rest = settled.splice(0);
        committing
          .then(() => (rest.length > 0 ? commitSlice(rest) : undefined))
          .catch(() => {}) // the store is what failed: the fault below says so
          .then(() => reject(error));
      };
      const lookForCancel = async () => {
        if (!state.canceled && (await this.isCancelRequested(job))) {
          state.canceled = true;
          sender.cancel();
        }
      };
      /** Queues the collected outcomes' commit behind the one under way: slices commit in order. */
      const commit = (): Promise<void> => {
        const slice = settled;
        settled = [];
        committing = committing.then(async () => {
          if (slice.length > 0) await commitSlice(slice);
          uncommitted -= slice.length;
          await lookForCancel();
          onProgress?.();
        });
        committing.catch((e: Error) => finish(e));
        // Room in the window again: feed the sender.
        return committing.then(() => feed(), () => {});
      };
      const watchForCancel = () => {
        // A slow job (a rate limit, a slow target) commits what came back at least this often,
        // so its progress shows long before a slice of COMMIT_SLICE fills up.
        if (settled.length > 0) void commit();
        else lookForCancel().catch((e: Error) => finish(e));
      };
      const collect = (entry: Settled) => {
        settled.push(entry);
        uncommitted++;
        if (settled.length >= COMMIT_SLICE) void commit();
      };
      const feed = async (): Promise<void> => {
        // In chunks, not a record per settled one: each push is a message to the sender's thread.
        if (feeding || finished) return;
        feeding = true;
        try {
          while (!state.canceled && !exhausted && inFlight.size <= WINDOW - FEED_CHUNK && uncommitted < COMMIT_SLICE * 2) {
            const batch: SendItem[] = [];
            while (!state.canceled && inFlight.size < WINDOW && uncommitted < COMMIT_SLICE * 2) {
              const next = await pass.take();
              if (!next) {
                exhausted = true;
                break;
              }
              // Resolved or deleted since it was queued: settled as skipped, never re-sent.
              if (!next.snapshot) collect({ item: next.item, run: undefined, snapshot: undefined });
              else {
                inFlight.set(next.item.seq, next);
                batch.push({ ref: next.item.seq, data: next.snapshot.data });
              }
            }
            if (batch.length > 0) sender.push(batch);
          }
        } catch (e) {
          finish(e as Error);
        } finally {
          feeding = false;
        }
        settle(false);
      };
      const settle = (nowDrained: boolean) => {
        if (finished) return;
        if (nowDrained) drained = true;
        // After a cancel, records pushed but never sent are not reported: the sender's drained says when to stop.
        if ((exhausted && inFlight.size === 0 && !feeding) || (state.canceled && !feeding && drained)) {
          finished = true;
          clearInterval(cancelWatch);
          state.onFault = undefined;
          const rest = settled.splice(0);
          committing = committing.then(() => (rest.length > 0 ? commitSlice(rest) : undefined));
          committing.then(() => resolve(pass.claimed), reject);
        }
      };
      const cancelWatch = setInterval(watchForCancel, 250);
      state.onFault = (e) => finish(e);
      state.listener = (results, clean, drained) => {
        if (finished) return;
        const settleOne = (ref: number, run: SettledRun) => {
          const entry = inFlight.get(ref);
          if (!entry) return;
          inFlight.delete(ref);
          collect({ ...entry, run });
        };
        for (const ref of clean) settleOne(ref, cleanRun);
        for (const { ref, run } of results) settleOne(ref, { succeeded: run.succeeded, outcomes: run.outcomes.map((o) => ({ ...o, step: steps[o.step]! })) });
        if (state.canceled) settle(drained);
        else void feed();
      };
      if (state.fault) return finish(state.fault);
      void feed();
    });
  }

  /**
   * Settles a slice of records in one transaction. Reads (carry-over of the records' latest
   * errors) and the moves of old errors to resolved happen once per slice in set-based statements;
   * only what is new per record (a new error, its trace, log entries) is written row by row.
   */
  private commit(job: number, slice: Settled[], recorder: OutcomeRecorder, options: RetryJobOptions, resolvedBy: string, flow: CatalogFlow, jobHex: string): Promise<void> {
    const at = this.ctx.now();
    return this.ctx.store.withTransaction(async (tx) => {
      const all: Plan[] = [];
      let meanwhile = 0;
      for (const { item, run, snapshot } of slice) {
        if (run && snapshot) all.push({ item, run, spent: snapshot.attempts, traceKey: snapshot.traceKey, kind: this.classify(item, run, options) });
        else {
          await tx.retries.settle(job, item.seq, 'resolved_meanwhile', item.attempts, null, 'resolved or deleted before it was sent');
          meanwhile++;
        }
      }
      // Decided here, in the transaction that records the outcomes: a record whose errors someone
      // resolved or deleted while its request was out keeps that state. Its outcome reopens
      // nothing, resolves nothing again and writes no new error (which would drop the triage data).
      const needCarry = all.filter((p) => p.kind !== 'resolved' || recorder.logging).map((p) => p.item.retryData);
      const latest = needCarry.length > 0 ? await tx.retries.latestOpenErrors(needCarry) : new Map<number, LatestError>();
      const resolvedPlans = all.filter((p) => p.kind === 'resolved');
      // Old errors leave the open list before the new ones (same retryDataKey) are written.
      const stillOpen = resolvedPlans.length > 0 ? await tx.retries.resolveManyByRetryData(resolvedPlans.map((p) => p.item.retryData), resolvedBy, at) : new Set<number>();
      const plans = all.filter((p) => (p.kind === 'resolved' ? stillOpen.has(p.item.retryData) : latest.has(p.item.retryData)));
      const kept = new Set(plans);
      for (const plan of all) {
        if (kept.has(plan)) continue;
        meanwhile++;
        const first = plan.run.outcomes[0]!;
        const outcome = first.ok ? 'it got through' : `it failed again (${first.classified.code}: ${first.classified.message})`;
        await tx.retries.settle(job, plan.item.seq, 'resolved_meanwhile', plan.item.attempts + 1, null, this.ctx.redactor.text(`resolved or deleted while it was being retried; ${outcome}`.slice(0, 500)));
        // The attempt is still logged; what it did downstream of the resolved step is a fact of its own.
        const ctx = (o: (typeof plan.run.outcomes)[number]) => ({ groupId: `${jobHex}-retry`, recordId: `${jobHex}-k${plan.item.seq}-s${o.step.def.position}`, traceKey: plan.traceKey ?? undefined });
        if (!first.ok) await recorder.log(tx, first, ctx(first));
        else if (recorder.logging || plan.run.outcomes.length > 1) for (const o of plan.run.outcomes) await recorder.record(tx, o, ctx(o), at);
      }
      const resolved = plans.filter((p) => p.kind === 'resolved');
      const failed = plans.filter((p) => p.kind === 'failed');
      if (failed.length > 0) await tx.retries.resolveManyByRetryData(failed.map((p) => p.item.retryData), SUPERSEDED_BY, at);
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
            for (const o of run.outcomes) await recorder.record(tx, o, { ...ctx, recordId: `${ctx.recordId}-s${o.step.def.position}` }, at);
          }
          if (flow.def.autoResolveMatchingTraceKeys && ctx.traceKey && run.succeeded) {
            await tx.retries.resolveMatchingTraceKey(flow.id, ctx.traceKey, Number.MAX_SAFE_INTEGER, at);
          }
          simple.push(item.seq);
          continue;
        }
        if (first.ok) continue; // unreachable: a first step that succeeded is 'resolved'
        const detail = this.ctx.redactor.text(`${first.classified.code}: ${first.classified.message}`.slice(0, 500));
        if (plan.kind === 'postponed') {
          const retryAfter = first.failure.kind === 'status' ? first.failure.retryAfter : undefined;
          await tx.retries.postpone(job, item.seq, attempts, at + nextAttemptDelay(options.backoff!, attempts, retryAfter, at), detail);
          continue;
        }
        // Final failure: one new error carries the superseded one's tags and assignee on.
        // Automatic retries spend the step's policy (so a record that keeps failing stops being
        // retried); an operator's retry starts the automatic schedule over.
        const automaticAttempts = resolvedBy === 'auto' ? plan.spent + 1 : 0;
        if (automaticAttempts !== plan.spent) await tx.retries.setAttempts(item.retryData, automaticAttempts);
        const carry = {
          retryData: item.retryData,
          attempts: automaticAttempts,
          tags: carried?.tags ? (JSON.parse(carried.tags) as string[]) : undefined,
          assignee: carried?.assignee,
          assignedBy: carried?.assignedBy,
          assigneeUser: carried?.assigneeUser,
        };
        let newError: number | undefined;
        for (const [index, o] of run.outcomes.entries()) {
          const id = await recorder.record(tx, o, { ...ctx, recordId: `${ctx.recordId}-s${o.step.def.position}` }, at, index === 0 ? carry : undefined);
          if (index === 0) newError = id;
        }
        await tx.retries.settle(job, item.seq, 'failed', attempts, newError ?? null, detail);
      }
      if (simple.length > 0) await tx.retries.settleResolved(job, simple);
      // Increments, never read-modify-write: other runners of the job add theirs at the same time.
      await tx.jobs.addJobCounters(job, { numSuccess: resolved.length, numError: failed.length, numIgnore: meanwhile }, at);
      // Back to running after a back-off wait, but never over a cancel request.
      await tx.jobs.setJobStatusIf(job, ['running', 'retrying'], 'running', at);
      await tx.jobs.updateJob(job, { heartbeatAt: at }, at);
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

