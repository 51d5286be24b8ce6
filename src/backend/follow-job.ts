import { setTimeout as sleep } from 'node:timers/promises';
import { jobProgressKey, TERMINAL_JOB_STATUSES, type Job } from '../domain/api.js';
import { ConflictError } from '../domain/errors.js';
import type { Backend, JobDetail } from './contract/index.js';

// Following a job is the client's: it asks getJob again until the job ends. Each ask long-polls
// (the backend answers when the job moved, or after waitMs); a backend that answers at once
// (a server without the long-poll) is asked again after a pause that grows to MAX_PAUSE_MS.

const WAIT_MS = 1_000;
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 2_000;

export interface FollowOptions {
  /** Called with the job after every answer (the first at once). */
  onProgress?: (job: Job) => void;
  /** Give up (a ConflictError 'timeout') after this long; 0 or absent waits as long as it takes. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function followJob(backend: Pick<Backend, 'getJob'>, jobId: string, options: FollowOptions = {}): Promise<JobDetail> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 0;
  let pause = FIRST_PAUSE_MS;
  let job = await backend.getJob(jobId);
  for (;;) {
    options.onProgress?.(job);
    if (TERMINAL_JOB_STATUSES.includes(job.status)) return job;
    options.signal?.throwIfAborted();
    const left = timeoutMs > 0 ? timeoutMs - (Date.now() - started) : WAIT_MS;
    if (left <= 0) throw new ConflictError(`job ${jobId} is still ${job.status} after ${Math.round(timeoutMs / 1000)}s`, 'timeout');
    const asked = Date.now();
    const before = jobProgressKey(job);
    job = await backend.getJob(jobId, { waitMs: Math.min(WAIT_MS, left) });
    if (Date.now() - asked < FIRST_PAUSE_MS && jobProgressKey(job) === before) {
      // Answered at once with nothing new: this backend does not long-poll, so pause before asking again.
      await sleep(Math.min(pause, Math.max(1, left)), undefined, options.signal ? { signal: options.signal } : {});
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    } else {
      pause = FIRST_PAUSE_MS;
    }
  }
}

