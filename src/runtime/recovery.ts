import type { Store } from '../store/contract/store.js';

// A job whose process was killed stays "running" in the store. Whoever opens the workspace next
// settles it: the owner is gone when its pid is dead, or when its heartbeat is long stale (the
// pid may have been reused). A re-queued retry job needs a runtime to run it: whoever opens the
// workspace starts the background worker for it (Workspace.open → ensureWorker).

const STALE_HEARTBEAT_MS = 5 * 60_000;

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
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
  const stale = (await store.jobs.activeJobs()).filter((job) => {
    if (job.parentId !== null || job.status === 'queued') return false;
    if (job.ownerPid === process.pid) return false;
    if (job.ownerPid === null) return job.status !== 'canceling' || now - job.lastModified > STALE_HEARTBEAT_MS;
    return !processAlive(job.ownerPid) || now - (job.heartbeatAt ?? job.lastModified) > STALE_HEARTBEAT_MS;
  });
  let requeued = 0;
  if (stale.length === 0) return { failed: 0, requeued };
  await store.withTransaction(async (tx) => {
    for (const job of stale) {
      if (job.type === 'retry' && job.status !== 'canceling') {
        // Its settled items stay settled; the pending ones run again when a runtime picks it up.
        await tx.jobs.updateJob(job.id, { status: 'queued', ownerPid: null, note: `resumed after the process running it (pid ${job.ownerPid ?? '?'}) ended` }, now);
        requeued++;
        continue;
      }
      const status = job.status === 'canceling' ? 'canceled' : 'failed';
      const note = `the process running this job (pid ${job.ownerPid ?? '?'}) ended before it finished`;
      // A finished retry job holds none of its records any more.
      if (job.type === 'retry') await tx.retries.skipPending(job.id, note);
      await tx.jobs.updateJob(job.id, { status, endedAt: now, ownerPid: null, note }, now);
      for (const child of await tx.jobs.childJobs(job.id)) {
        if (child.status === 'running' || child.status === 'queued' || child.status === 'canceling') {
          await tx.jobs.updateJob(child.id, { status, endedAt: now, note }, now);
        }
      }
    }
  });
  return { failed: stale.length - requeued, requeued };
}
