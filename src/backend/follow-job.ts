import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL_JOB_STATUSES, type Job } from '../domain/api.js';
import { ConflictError } from '../domain/errors.js';
import type { JobDetail } from './backend.js';

// Following a job to its end is the client's business, over getJob: a server that long-polls
// (`waitMs`) answers when the job changed, so progress shows at once and nothing spins; one that
// ignores waitMs answers at once, and the loop backs off (100 ms doubling to 2 s while nothing
// changes, back to 100 ms when something did) instead of asking as fast as it can.

/** What followJob needs of a backend: getJob, long-polling where the backend can. */
export interface JobSource {
  getJob(jobId: string, options?: { waitMs?: number }): Promise<JobDetail>;
}

export interface FollowJobOptions {
  /** Called with the job after every answer (the first one included). */
  onProgress?: (job: Job) => void;
  /** Give up (a ConflictError, code `timeout`) when the job is not done after this long; none by default. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The longest a single long-poll waits (default 25 s; servers cap it at 30 s). */
  waitMs?: number;
}

const MIN_DELAY_MS = 100;
const MAX_DELAY_MS = 2_000;
const DEFAULT_WAIT_MS = 25_000;

export async function followJob(backend: JobSource, jobId: string, options: FollowJobOptions = {}): Promise<JobDetail> {
  const started = Date.now();
  const deadline = options.timeoutMs !== undefined && options.timeoutMs > 0 ? started + options.timeoutMs : undefined;
  const maxWait = options.waitMs ?? DEFAULT_WAIT_MS;
  let delay = MIN_DELAY_MS;
  let last: string | undefined;
  let job = await backend.getJob(jobId);
  for (;;) {
    options.signal?.throwIfAborted();
    options.onProgress?.(job);
    if (TERMINAL_JOB_STATUSES.includes(job.status)) return job;
    const now = Date.now();
    if (deadline !== undefined && now >= deadline) {
      throw new ConflictError(`job ${jobId} is still ${job.status} after ${seconds(options.timeoutMs ?? 0)}`, 'timeout');
    }
    const fingerprint = progressOf(job);
    const changed = fingerprint !== last;
    last = fingerprint;
    delay = changed ? MIN_DELAY_MS : Math.min(delay * 2, MAX_DELAY_MS);
    const waitMs = Math.max(1, Math.min(maxWait, deadline !== undefined ? deadline - now : maxWait));
    const asked = Date.now();
    job = await backend.getJob(jobId, { waitMs });
    // An answer quicker than the back-off delay: the server did not hold the request (it ignores
    // waitMs, or the job moved): wait out the rest of the delay before asking again.
    const early = delay - (Date.now() - asked);
    if (early > 0 && !TERMINAL_JOB_STATUSES.includes(job.status)) {
      const remaining = deadline !== undefined ? Math.max(0, deadline - Date.now()) : early;
      await sleep(Math.min(early, remaining), undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}

/** What a long-poll reports a change of: the status and the counters. */
function progressOf(job: Job): string {
  return JSON.stringify([job.status, job.numError, job.numOpenError, job.numResolved, job.numSuccess, job.numIgnore, job.numPagesProcessed, job.lastModified]);
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)}s` : `${Math.round(ms / 100) / 10}s`;
}
