import type { FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Backend, JobDetail, JobListParams } from '../../backend/backend.js';
import { ROUTES } from '../../backend/wire/routes.js';
import { TERMINAL_JOB_STATUSES, type JobStatus, type JobType } from '../../domain/api.js';
import * as S from '../schemas.js';
import { noContent, on, type RouteContext } from './define.js';

// Jobs: listed, one job (with `?waitMs=` a long-poll that answers as soon as the job changes),
// cancelled, a retry job's report and record counts, the automatic retries, and the spec's
// trace-key search.

/** The longest a long-poll holds a request. */
export const MAX_WAIT_MS = 30_000;
const POLL_MS = 200;

/** What a follower sees change: the status and the counters. */
function progressOf(job: JobDetail): string {
  return JSON.stringify([job.status, job.numError, job.numOpenError, job.numResolved, job.numSuccess, job.numIgnore, job.numPagesProcessed, job.endedAt]);
}

/**
 * The job once it changed from how it was first read, or as it is when `waitMs` passed (or the
 * server closes); a job that has ended, at once. Until the Backend's getJob takes `{ waitMs }` itself, the waiting is done here.
 */
async function jobAfterChange(backend: Backend, jobId: string, waitMs: number, closing: AbortSignal): Promise<JobDetail> {
  const first = await backend.getJob(jobId);
  // A job that has ended changes no more: no reason to hold the request.
  if (TERMINAL_JOB_STATUSES.includes(first.status)) return first;
  const until = Date.now() + Math.min(waitMs, MAX_WAIT_MS);
  let job = first;
  while (Date.now() < until && !closing.aborted && progressOf(job) === progressOf(first)) {
    await sleep(Math.min(POLL_MS, Math.max(1, until - Date.now())), undefined, { signal: closing }).catch(() => undefined);
    job = await backend.getJob(jobId);
  }
  return job;
}

export function jobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  on<{ Querystring: { flowId?: string; type?: JobType; status?: JobStatus; triggeredBy?: string; limit?: number; before?: string } }>(
    app,
    ROUTES.listJobs,
    { querystring: S.jobListQuery },
    async (request) => {
      const { flowId, ...rest } = request.query;
      const params: JobListParams = { ...rest, ...(flowId !== undefined ? { flowRef: flowId } : {}) };
      return ctx.backendOf(request).listJobs(params);
    },
  );

  on<{ Params: { jobId: string }; Querystring: { waitMs?: number } }>(app, ROUTES.getJob, { querystring: S.jobQuery }, async (request) => {
    const backend = ctx.backendOf(request);
    const waitMs = request.query.waitMs ?? 0;
    return waitMs > 0 ? jobAfterChange(backend, request.params.jobId, waitMs, ctx.closing) : backend.getJob(request.params.jobId);
  });

  on<{ Params: { jobId: string } }>(app, ROUTES.cancelJob, {}, async (request) => ctx.backendOf(request).retries.cancelJob(request.params.jobId));
  on<{ Params: { jobId: string } }>(app, ROUTES.retryReport, {}, async (request) => ctx.backendOf(request).retries.retryReport(request.params.jobId));
  on<{ Params: { jobId: string } }>(app, ROUTES.recordCounts, {}, async (request, reply) => {
    // A job of another type has no retry records: 204.
    const counts = await ctx.backendOf(request).retries.recordCounts(request.params.jobId);
    return counts ?? noContent(reply);
  });
  on(app, ROUTES.keepAutomaticRetries, {}, async (request) => ctx.backendOf(request).keepAutomaticRetries());

  on<{ Params: { _id: string }; Querystring: { traceKeyPrefix: string; pageSize?: number } }>(app, ROUTES.searchJobs, { querystring: S.searchJobsQuery }, async (request) => {
    const { traceKeyPrefix, pageSize } = request.query;
    return ctx.backendOf(request).records.searchJobs(request.params._id, traceKeyPrefix, pageSize !== undefined ? { pageSize } : {});
  });
}
