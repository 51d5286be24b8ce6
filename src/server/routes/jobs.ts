import type { FastifyInstance } from 'fastify';
import type { Backend, JobDetail, JobListParams } from '../../backend/contract/index.js';
import { ROUTES } from '../../backend/wire/routes.js';
import type { JobStatus, JobType } from '../../domain/api.js';
import * as S from '../schemas.js';
import { noContent, on, type RouteContext } from './define.js';
import { MAX_JOB_WAIT_MS } from '../../backend/contract/limits.js';

// Jobs: listed, one job (with `?waitMs=` a long-poll that answers as soon as the job changes),
// cancelled, a retry job's report and record counts, the automatic retries, and the spec's
// trace-key search.


/**
 * The Backend's long-poll, capped; when the server starts closing, the job as it is now instead,
 * so a closing server waits for no follower.
 */
async function jobAfterChange(backend: Backend, jobId: string, waitMs: number, closing: AbortSignal): Promise<JobDetail> {
  if (closing.aborted) return backend.getJob(jobId);
  return backend.getJob(jobId, { waitMs: Math.min(waitMs, MAX_JOB_WAIT_MS), signal: closing });
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
