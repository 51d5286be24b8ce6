import type { Backend, ErrorSelection, JobDetail, RetryRequest } from '../../src/backend/contract/index.js';
import { followJob, type FollowOptions } from '../../src/backend/follow-job.js';

// The Backend answers a started run or a queued retry at once; most tests want the finished job.
// These follow it to the end as a client does (followJob over getJob). With FLOWDECK_WORKER=off, as
// tests set, the following process runs a queued retry job itself.

/** Starts a flow run and answers its job once it ended. */
export async function runFlowToEnd(backend: Backend, flowRef: string, follow: FollowOptions = {}): Promise<JobDetail> {
  return followJob(backend, (await backend.runFlow(flowRef))._id, follow);
}

/** Queues a retry and answers its job once it ended; undefined when no snapshot matched (nothing queued). */
export async function retryToEnd(
  backend: Backend,
  flowRef: string,
  stepRef: string,
  selection: ErrorSelection,
  request: RetryRequest = {},
  follow: FollowOptions = {},
): Promise<JobDetail | undefined> {
  const queued = await backend.retries.retry(flowRef, stepRef, selection, request);
  return queued && followJob(backend, queued._id, follow);
}
