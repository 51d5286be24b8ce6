import { setTimeout as sleep } from 'node:timers/promises';
import { jobProgressKey, TERMINAL_JOB_STATUSES, type Job } from '../domain/api.js';
import { ConflictError } from '../domain/errors.js';
import type { Backend, JobDetail } from './contract/index.js';
import { secondsText } from '../domain/text.js';

// Following a job is the client's: it asks getJob again until the job ends. Each ask long-polls
// (the backend answers when the job moved, or after waitMs); a backend that answers at once
// (a server without the long-poll) is asked again after a pause that grows to MAX_PAUSE_MS.

const WAIT_MS = 1_000;
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 2_000;
/** How long a server may be unreachable (restarting, a network blip) before following gives up. */
export const OUTAGE_MS = 60_000;
const OUTAGE_FIRST_PAUSE_MS = 500;
const OUTAGE_MAX_PAUSE_MS = 5_000;

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
  const deadline = timeoutMs > 0 ? started + timeoutMs : undefined;
  let answered = false;
  const ask = async (waitMs?: number) => {
    const job = await askRidingOutages(backend, jobId, waitMs, options.signal, deadline, answered);
    answered = true;
    return job;
  };
  let job = await ask();
  for (;;) {
    options.onProgress?.(job);
    if (TERMINAL_JOB_STATUSES.includes(job.status)) return job;
    options.signal?.throwIfAborted();
    const left = timeoutMs > 0 ? timeoutMs - (Date.now() - started) : WAIT_MS;
    if (left <= 0) throw new ConflictError(`job ${jobId} is still ${job.status} after ${secondsText(timeoutMs)}`, 'timeout');
    const asked = Date.now();
    const before = jobProgressKey(job);
    job = await ask(Math.min(WAIT_MS, left));
    if (Date.now() - asked < FIRST_PAUSE_MS && jobProgressKey(job) === before) {
      // Answered at once with nothing new: this backend does not long-poll, so pause before asking again.
      await sleep(Math.min(pause, Math.max(1, left)), undefined, options.signal ? { signal: options.signal } : {});
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    } else {
      pause = FIRST_PAUSE_MS;
    }
  }
}



/**
 * One getJob, asked again while the backend cannot be reached (code `unreachable`): a job goes on
 * on its server whether or not someone follows it, so a restart of the server must not end the
 * follow. Past OUTAGE_MS the error says how to follow the job again.
 */
async function askRidingOutages(
  backend: Pick<Backend, 'getJob'>,
  jobId: string,
  waitMs: number | undefined,
  signal: AbortSignal | undefined,
  deadline: number | undefined,
  answeredBefore: boolean,
): Promise<JobDetail> {
  const started = Date.now();
  // Not past the caller's timeout, whatever the outage allows.
  const giveUpAt = Math.min(started + OUTAGE_MS, deadline ?? Infinity);
  let pause = OUTAGE_FIRST_PAUSE_MS;
  for (;;) {
    try {
      return await (waitMs !== undefined ? backend.getJob(jobId, { waitMs }) : backend.getJob(jobId));
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'unreachable') throw error;
      if (Date.now() + pause > giveUpAt) {
        // Only a job the server already answered for is known to go on there.
        if (answeredBefore) (error as Error).message += `; job ${jobId} goes on there: follow it again with flowdeck jobs wait ${jobId}`;
        throw error;
      }
      await sleep(pause, undefined, signal ? { signal } : {});
      pause = Math.min(pause * 2, OUTAGE_MAX_PAUSE_MS);
    }
  }
}
