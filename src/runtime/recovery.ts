import { processAlive } from '../store/shared/owners.js';
import type { JobRow } from '../store/contract/rows.js';
import { WORKER_STALE_MS } from './worker-identity.js';
import type { Store } from '../store/contract/store.js';

// A job whose process was killed stays "running" in the store. Whoever opens the workspace next
// settles it: the owner is gone when its pid is dead, or when its heartbeat is long stale (the
// pid may have been reused). A re-queued retry job needs a runtime to run it: whoever opens the
// workspace starts the background worker for it (Workspace.open → ensureWorker). Where workers on
// many hosts share jobs (PostgreSQL), see staleShared.

const STALE_HEARTBEAT_MS = 5 * 60_000;

/** One worker per store (SQLite, one host): the job's process is gone when its pid is dead. */
function staleHere(job: JobRow, now: number): boolean {
  if (job.ownerPid === process.pid) return false;
  if (job.ownerPid === null) return job.status !== 'canceling' || now - job.lastModified > STALE_HEARTBEAT_MS;
  return !processAlive(job.ownerPid) || now - (job.heartbeatAt ?? job.lastModified) > STALE_HEARTBEAT_MS;
}

/**
 * Workers on many hosts (PostgreSQL): another host's pid cannot be checked. A flow run is stale when
 * its heartbeat is. A retry job is run by whichever workers hold its items' leases: a killed worker's
 * leases expire and the live workers claim those items and end the job, so it is never failed for
 * that. It is stale only when no live lease is on it and no worker is alive to pick it up (then it
 * is re-queued for the next worker), or, canceling, when no lease and no heartbeat is left on it.
 */
async function staleShared(store: Store, active: JobRow[], now: number): Promise<JobRow[]> {
  const stale: JobRow[] = [];
  let workersAlive: boolean | undefined;
  for (const job of active) {
    const quiet = now - (job.heartbeatAt ?? job.lastModified) > STALE_HEARTBEAT_MS;
    if (job.type !== 'retry') {
      if (quiet) stale.push(job);
      continue;
    }
    if ((await store.retries.liveLeases(job.id, now)) > 0) continue;
    if (job.status === 'canceling') {
      if (quiet) stale.push(job);
      continue;
    }
    workersAlive ??= await store.workers.anyAlive(now, WORKER_STALE_MS);
    if (!workersAlive) stale.push(job);
  }
  return stale;
}

/**
 * Settles jobs whose process died: flow runs fail, retry jobs go back to the queue to resume. Items
 * that an ended retry job could not release (the store refused the write) are released here.
 */
export async function recoverStaleJobs(store: Store, now: number): Promise<{ failed: number; requeued: number }> {
  // Read first: most opens find nothing and must not take the write lock for it.
  const ended = await store.retries.endedJobsWithPendingItems();
  if (ended.length > 0) {
    try {
      await store.withTransaction(async (tx) => {
        for (const job of ended) await tx.retries.skipPending(job.id, job.note ?? `the job ${job.status} before this record was retried`);
      });
    } catch {
      // still refused (a full disk): the next open or worker tick tries again
    }
  }
  const active = (await store.jobs.activeJobs()).filter((job) => job.parentId === null && job.status !== 'queued');
  const stale = store.sharedWorkers ? await staleShared(store, active, now) : active.filter((job) => staleHere(job, now));
  let requeued = 0;
  let failed = 0;
  if (stale.length === 0) return { failed, requeued };
  await store.withTransaction(async (tx) => {
    for (const job of stale) {
      if (job.type === 'retry' && job.status !== 'canceling') {
        // Its settled items stay settled; the pending ones run again when a runtime picks it up.
        // Moved only from the state it was read in: another recovery (another host) may be first.
        if (await tx.jobs.setJobStatusIf(job.id, [job.status], 'queued', now)) {
          await tx.jobs.updateJob(job.id, { ownerPid: null, note: `resumed after the process running it (pid ${job.ownerPid ?? '?'}) ended` }, now);
          requeued++;
        }
        continue;
      }
      const status = job.status === 'canceling' ? 'canceled' : 'failed';
      const note = `the process running this job (pid ${job.ownerPid ?? '?'}) ended before it finished`;
      if (!(await tx.jobs.setJobStatusIf(job.id, [job.status], status, now))) continue;
      // A finished retry job holds none of its records any more.
      if (job.type === 'retry') await tx.retries.skipPending(job.id, note);
      await tx.jobs.updateJob(job.id, { endedAt: now, ownerPid: null, note }, now);
      failed++;
      for (const child of await tx.jobs.childJobs(job.id)) {
        if (child.status === 'running' || child.status === 'queued' || child.status === 'canceling') {
          await tx.jobs.updateJob(child.id, { status, endedAt: now, note }, now);
        }
      }
    }
  });
  return { failed, requeued };
}
