import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeId } from '../domain/ids.js';
import type { Workspace } from '../workspace/workspace.js';
import { recoverStaleJobs } from './recovery.js';
import type { StorePorts } from '../store/contract/ports.js';
import type { JobRow } from '../store/contract/rows.js';
import type { Store } from '../store/contract/store.js';
import { WORKER_IDENTITY, WORKER_STALE_MS } from './worker-identity.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Runtime } from './runtime.js';

// The runtime as a background process: it runs queued retry jobs (including ones resumed after a
// crash) and queues automatic retries whose retryAt is due. On SQLite one per workspace, held by a
// lease in the store; on PostgreSQL any number, on any hosts, sharing retry jobs item by item. A
// command that queues work without waiting starts one if none is alive.

const TICK_MS = 250;

export { WORKER_IDENTITY } from './worker-identity.js';

export function workerAlive(ws: Workspace, now = Date.now()): Promise<boolean> {
  return ws.store.workers.anyAlive(now, WORKER_STALE_MS);
}

/** bin/flowdeck.js of this package, found from this module whether it runs compiled (dist/) or from source. */
export function flowdeckBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'flowdeck.js'))) return join(dir, 'bin', 'flowdeck.js');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find bin/flowdeck.js above the runtime module');
    dir = parent;
  }
}

/**
 * Starts a detached worker for the workspace unless one is alive. FLOWDECK_WORKER=off leaves queued
 * jobs to a `flowdeck worker` started by hand (and lets tests run jobs in-process, race-free).
 */
export async function ensureWorker(ws: Workspace): Promise<void> {
  if (ws.env.FLOWDECK_WORKER === 'off' || (await workerAlive(ws))) return;
  const bin = flowdeckBin();
  const child = spawn(process.execPath, [bin, 'worker', '--exit-when-idle'], {
    detached: true,
    stdio: 'ignore',
    env: { ...ws.env, FLOWDECK_HOME: ws.home },
  });
  child.unref();
}

/**
 * One sweep: queues ONE automatic retry job per step for every error of it whose retryAt is due.
 * A step that an automatic job is still working on is left for the sweep after that job ends (its
 * errors stay due), so a busy step never piles up jobs. Only retryable steps are swept: errors of an
 * export (page failures), of a step no longer in its flow, of a disabled or removed flow, and errors
 * without retry data have nothing to re-feed; their retryAt is cleared so they no longer read "due".
 * The due errors are read in the same (immediate) transaction that clears their retryAt and queues
 * the jobs, so an error resolved or retried by an operator a moment before is not queued again.
 */
export async function queueDueRetries(ws: Workspace, runtime: Runtime, now: number): Promise<number> {
  const busySteps = async (store: StorePorts) => [
    ...new Set((await store.jobs.activeJobs()).filter((j) => j.type === 'retry' && j.triggeredBy === 'auto' && j.step !== null).map((j) => j.step!)),
  ];
  // A cheap look first: most sweeps find nothing due and take no write lock.
  if ((await ws.store.retries.dueAutomaticRetries(now, 1, await busySteps(ws.store))).length === 0) return 0;
  // Exclusive: two workers (any hosts) sweeping at once would queue the same errors twice.
  return ws.store.withTransaction(
    async (tx) => {
      const due = await tx.retries.dueAutomaticRetries(now, 0, await busySteps(tx));
      const byStep = new Map<number, typeof due>();
      for (const d of due) {
        let rows = byStep.get(d.step);
        if (!rows) byStep.set(d.step, (rows = []));
        rows.push(d);
      }
      let queued = 0;
      for (const [stepKey, rows] of byStep) {
        await tx.retries.clearRetryAt(rows.map((r) => r.errorId));
        const step = await tx.catalog.step(stepKey);
        const flow = step ? await tx.catalog.getFlow(step.flowId) : undefined;
        if (!step || !flow || flow.disabled || flow.removed || step.kind === 'export' || step.position >= 1000) continue;
        const retryData = [...new Set(rows.flatMap((r) => (r.retryData === null ? [] : [r.retryData])))];
        if (retryData.length === 0) continue;
        const job = await runtime.retries().queue(flow.id, stepKey, retryData, 'auto', {}, tx);
        if (job !== undefined) queued++;
      }
      return queued;
    },
    { exclusive: 'retry-sweep' },
  );
}

/**
 * Whether this worker takes the job on. On a store of one worker: a queued job. Where workers share
 * jobs (PostgreSQL): any active one with items to claim now — due and not held by a live lease —
 * so the workers of every host spread a big job, and a dead worker's items (their leases expired)
 * are picked up by the others.
 */
async function joinable(store: Store, job: JobRow, now: number): Promise<boolean> {
  if (job.status === 'queued') return true;
  if (!store.sharedWorkers || (job.status !== 'running' && job.status !== 'retrying')) return false;
  const nextDue = await store.retries.nextDueAt(job.id);
  if (nextDue === undefined || nextDue > now) return false;
  return (await store.retries.pendingCount(job.id)) > (await store.retries.liveLeases(job.id, now));
}

export interface WorkerOptions {
  exitWhenIdle: boolean;
  idleMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** After a stop (the signal), how long running jobs may take to finish (default 10 s). */
  graceMs?: number;
}

/**
 * 'interrupted': stopped with jobs still running after the grace period. Their outcomes so far are
 * committed (per batch), so the caller may end the process: the next flowdeck that opens the
 * workspace re-queues them and a worker resumes them, as after a kill.
 */
export type WorkerResult = 'done' | 'another-worker' | 'interrupted';

export async function runWorker(ws: Workspace, runtime: Runtime, options: WorkerOptions): Promise<WorkerResult> {
  const store = ws.store;
  if (!(await store.workers.acquire(WORKER_IDENTITY, Date.now(), WORKER_STALE_MS))) return 'another-worker';
  const running = new Map<number, Promise<unknown>>();
  const idleMs = options.idleMs ?? 3000;
  let idleSince = Date.now();
  try {
    while (!options.signal?.aborted) {
      const now = Date.now();
      if (!(await store.workers.renew(WORKER_IDENTITY, now))) {
        // Another worker took over (this one was paused past the lease): leave the queue to it.
        options.log?.('another worker holds the lease now; stopping');
        break;
      }
      await recoverStaleJobs(store, now);
      if ((await queueDueRetries(ws, runtime, now)) > 0) options.log?.('queued automatic retries');
      for (const job of await store.jobs.activeJobs()) {
        if (job.type !== 'retry' || running.has(job.id) || !(await joinable(store, job, now))) continue;
        // The job's public id, as `jobs list` and the API show it, so a log line can be looked up.
        const publicId = encodeId('job', job.id, job.createdAt);
        options.log?.(`running retry job ${publicId}`);
        const task = runtime
          .runRetryJob(job.id, undefined, options.signal)
          .catch((e: Error) => options.log?.(`retry job ${publicId} failed: ${e.message}`))
          .finally(() => running.delete(job.id));
        running.set(job.id, task);
      }
      if (running.size > 0) idleSince = Date.now();
      else if (options.exitWhenIdle && Date.now() - idleSince > idleMs) {
        const next = await store.retries.dueAutomaticRetries(Date.now() + idleMs * 10, 1);
        if (next.length === 0) break;
      }
      await sleep(TICK_MS);
    }
    const settled = Promise.allSettled(running.values()).then(() => 'done' as const);
    if (running.size === 0 || !options.signal?.aborted) return await settled;
    // A stop waits for running jobs a while, not for as long as they take (a big job runs minutes).
    const grace = new AbortController();
    const late = sleep(options.graceMs ?? 10_000, 'interrupted' as const, { signal: grace.signal }).catch(() => 'done' as const);
    const result = await Promise.race([settled, late]);
    grace.abort();
    if (result === 'interrupted') {
      // Their requests still out end with this process: their items go back now, so the next open
      // re-queues the jobs (on PostgreSQL they would stay leased to a gone worker for the lease's 30 s).
      for (const job of running.keys()) await store.retries.releaseItemLeases(job, WORKER_IDENTITY.id).catch(() => undefined);
      options.log?.(`stopping with ${running.size} retry job${running.size === 1 ? '' : 's'} still running: they resume when flowdeck next opens the workspace`);
    }
    return result;
  } finally {
    await store.workers.release(WORKER_IDENTITY);
  }
}
