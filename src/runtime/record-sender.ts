import type { Redactor } from '../domain/mask.js';
import { CancelScope } from './cancel-scope.js';
import type { HttpClient } from './http.js';
import { runRecord, settleOutcome, unreadableSnapshot, type RecordRun, type RuntimeStep, type SettledRun } from './pipeline.js';

// The sending half of a retry job: runs snapshots through the pipeline, `concurrency` at a time
// and at most `ratePerSecond`, and hands back each record's settled run (plain data, steps as
// indexes). It never touches the store, so it can run in a worker thread (sender-thread.ts) while
// the job's thread commits outcomes: a big retry then uses two cores, HTTP on one and SQLite on
// the other.

export interface SendItem {
  /** The caller's reference (the retry item's seq). */
  ref: number;
  /** The snapshot, as stored (JSON). */
  data: string;
}

export interface SendResult {
  ref: number;
  run: SettledRun<number>;
}

export interface SenderOptions {
  concurrency: number;
  ratePerSecond?: number | undefined;
  /** Stage data for execution logs is masked and kept only when the flow logs in full. */
  logging: boolean;
}

/**
 * `clean` are the refs of records whose one step succeeded with nothing to log: the common case
 * of a big retry, passed as bare numbers (cheap to hand across threads). `drained` is true once,
 * after cancel(), when no request is left in flight: every record not reported by then was never sent.
 */
export type SenderListener = (results: SendResult[], clean: number[], drained: boolean) => void;

const FLUSH_COUNT = 256;
const FLUSH_MS = 5;

export class RateLimiter {
  private nextSlot = 0;
  private readonly waiting = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  constructor(private readonly perSecond: number) {}

  async take(): Promise<void> {
    const now = Date.now();
    const wait = this.nextSlot - now;
    this.nextSlot = Math.max(now, this.nextSlot) + 1000 / this.perSecond;
    if (wait <= 0) return;
    await new Promise<void>((resolve) => {
      const waiter = { timer: setTimeout(() => (this.waiting.delete(waiter), resolve()), wait), resolve };
      this.waiting.add(waiter);
    });
  }

  /** Lets every waiting take() return now: a cancel must not wait out slots reserved minutes ahead. */
  release(): void {
    for (const w of this.waiting) {
      clearTimeout(w.timer);
      w.resolve();
    }
    this.waiting.clear();
  }
}

export class RecordSender {
  private queue: SendItem[] = [];
  private head = 0;
  private active = 0;
  private canceled = false;
  private drainPending = false;
  private out: SendResult[] = [];
  private clean: number[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly limiter: RateLimiter | undefined;
  /** Aborts the requests in flight on cancel: a dribbling target must not hold a canceled job. */
  private readonly inFlight = new CancelScope();

  constructor(
    private readonly steps: readonly RuntimeStep[],
    private readonly http: HttpClient,
    private readonly redactor: Redactor,
    private readonly options: SenderOptions,
    private readonly listener: SenderListener,
    private readonly onError: (e: Error) => void,
  ) {
    this.limiter = options.ratePerSecond ? new RateLimiter(options.ratePerSecond) : undefined;
  }

  push(items: readonly SendItem[]): void {
    if (this.canceled) return;
    for (const item of items) this.queue.push(item);
    while (this.active < this.options.concurrency && this.head < this.queue.length) void this.loop();
  }

  private async runItem(item: SendItem): Promise<RecordRun> {
    let record: unknown;
    try {
      record = JSON.parse(item.data);
    } catch (e) {
      return unreadableSnapshot(this.steps[0]!, item.data, (e as Error).message);
    }
    return runRecord(this.steps, record, this.http, this.inFlight);
  }

  /**
   * Sends nothing more; reports `drained` once the requests in flight have settled. Never from
   * within this call: the caller may be in the middle of handling a report (a commit that found
   * the cancel), and a nested one would end its pass before it finished.
   */
  cancel(abortInFlight = true): void {
    this.canceled = true;
    this.queue = [];
    this.head = 0;
    this.drainPending = true;
    this.limiter?.release();
    // A stop (not a cancel) lets the requests out come back: their targets may have taken them.
    if (abortInFlight) this.inFlight.cancel();
    setImmediate(() => this.scheduleFlush());
  }

  private async loop(): Promise<void> {
    this.active++;
    try {
      while (!this.canceled && this.head < this.queue.length) {
        const item = this.queue[this.head++]!;
        // Keep the queue from growing without bound over a long job.
        if (this.head > 4096 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        await this.limiter?.take();
        if (this.canceled) break;
        const run = await this.runItem(item);
        // A record whose request the cancel aborted was not settled: left unreported, it counts as never sent.
        if (this.canceled && run.outcomes.some((o) => !o.ok && o.failure.kind === 'canceled')) continue;
        if (run.succeeded && run.outcomes.length === 1 && !this.options.logging) this.clean.push(item.ref);
        else
          this.out.push({
          ref: item.ref,
          run: {
            succeeded: run.succeeded,
            outcomes: run.outcomes.map((o) => settleOutcome(o, this.steps.indexOf(o.step), this.options.logging, this.redactor)),
          },
        });
        this.scheduleFlush();
      }
    } catch (e) {
      // Not a failed call (those are outcomes) but a fault of ours: the job stops.
      this.canceled = true;
      this.onError(e as Error);
    } finally {
      this.active--;
      if (this.drainPending && this.active === 0) this.scheduleFlush();
    }
  }

  // Results go back in batches (FLUSH_COUNT, or whatever settled within FLUSH_MS): each message
  // wakes the job's thread, and one per record would cost more than the records.
  private scheduleFlush(): void {
    if (this.out.length + this.clean.length >= FLUSH_COUNT || (this.drainPending && this.active === 0)) {
      this.flush();
      return;
    }
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const results = this.out;
    const clean = this.clean;
    this.out = [];
    this.clean = [];
    const drained = this.drainPending && this.active === 0;
    if (drained) this.drainPending = false;
    if (results.length > 0 || clean.length > 0 || drained) this.listener(results, clean, drained);
  }
}

/** The job thread's handle on a sender, in this thread or in a worker thread. */
export interface SenderHandle {
  push(items: readonly SendItem[]): void;
  /** Sends nothing more; `abortInFlight` false (a worker's stop) lets the requests out finish. */
  cancel(abortInFlight?: boolean): void;
  close(): Promise<void>;
}

export interface SenderSetup {
  steps: readonly RuntimeStep[];
  options: SenderOptions;
  listener: SenderListener;
  onError: (e: Error) => void;
}

/** A sender in this thread, on the runtime's HTTP pools: small jobs skip a thread's start-up. */
export function senderInThread(setup: SenderSetup, http: HttpClient, redactor: Redactor): SenderHandle {
  const sender = new RecordSender(setup.steps, http, redactor, setup.options, setup.listener, setup.onError);
  return { push: (items) => sender.push(items), cancel: (abortInFlight) => sender.cancel(abortInFlight), close: async () => {} };
}

/** Messages between the job thread and a sender thread (record-sender-thread.ts). */
export type ToSenderThread = { type: 'push'; items: readonly SendItem[] } | { type: 'cancel'; abortInFlight: boolean };
export type FromSenderThread = { type: 'results'; results: SendResult[]; clean: number[]; drained: boolean } | { type: 'error'; message: string; stack?: string };
export interface SenderThreadData {
  steps: readonly RuntimeStep[];
  options: SenderOptions;
  /** Every secret value the job's redactor hides (all connections', not only the steps'). */
  secrets: string[];
  /** The header names it masks beyond the built-in pattern. */
  secretHeaders: string[];
}

/**
 * A sender in a worker thread with its own HTTP pools, and a redactor hiding what the job's own
 * hides (every connection's secrets). Resolves once the thread is up. Tests run the TypeScript sources, which a worker
 * cannot load: they get the compiled thread from dist/ (built by the test set-up).
 */
export async function senderThread(setup: SenderSetup, redactor: Redactor): Promise<SenderHandle> {
  const { Worker } = await import('node:worker_threads');
  const here = import.meta.url;
  const entry = here.endsWith('.ts')
    ? new URL('../../dist/src/runtime/record-sender-thread.js', here)
    : new URL('./record-sender-thread.js', here);
  const data: SenderThreadData = { steps: setup.steps, options: setup.options, secrets: redactor.secrets(), secretHeaders: redactor.secretHeaders() };
  const worker = new Worker(entry, { workerData: data });
  let closing = false;
  worker.on('message', (m: FromSenderThread) => {
    if (m.type === 'results') setup.listener(m.results, m.clean, m.drained);
    else setup.onError(Object.assign(new Error(m.message), m.stack ? { stack: m.stack } : {}));
  });
  worker.on('error', (e) => setup.onError(e));
  worker.on('exit', (code) => {
    if (!closing) setup.onError(new Error(`the retry's sender thread exited (${code})`));
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the retry's sender thread exited (${code}) before it started`)));
  });
  const post = (m: ToSenderThread) => worker.postMessage(m);
  return {
    push: (items) => post({ type: 'push', items }),
    cancel: (abortInFlight = true) => post({ type: 'cancel', abortInFlight }),
    close: async () => {
      closing = true;
      await worker.terminate();
    },
  };
}
