import type { FastifyInstance } from 'fastify';
import type { LogChildrenParams, LogDataQuery, LogListParams, LogMetadataQuery, LogStatusFilter } from '../../backend/contract/index.js';
import { ROUTES } from '../../backend/wire/routes.js';
import * as S from '../schemas.js';
import { on, type RouteContext } from './define.js';

// Execution logs of a job: its entries page by page (the cursors nextPageUrl carries), one entry by
// record id, a record's trace across steps, its data per stage, and a one-to-many record's children.

type JobParams = { _id: string; _jobId: string };

export function logRoutes(app: FastifyInstance, ctx: RouteContext): void {
  on<{ Params: JobParams; Querystring: { status?: LogStatusFilter; _expOrImpId?: string; traceKeyPrefix?: string; sortOrder?: 'asc' | 'desc'; pageSize?: number; next?: string; prev?: string } }>(
    app,
    ROUTES.listLogs,
    { querystring: S.logListQuery },
    async (request) => {
      const { _expOrImpId, ...rest } = request.query;
      // Several steps as nextPageUrl writes them: comma-separated ids.
      const params: LogListParams = { ...rest, ...(_expOrImpId ? { stepRefs: _expOrImpId.split(',').filter(Boolean) } : {}) };
      return ctx.backendOf(request).records.listLogs(request.params._id, request.params._jobId, params);
    },
  );
  on<{ Params: JobParams & { recordId: string }; Querystring: { stepId?: string } }>(app, ROUTES.findLogEntry, { querystring: S.logEntryQuery }, async (request) =>
    ctx.backendOf(request).records.findLogEntry(request.params._id, request.params._jobId, request.params.recordId, request.query.stepId),
  );
  on<{ Params: JobParams; Body: LogMetadataQuery }>(app, ROUTES.logMetadata, { body: S.logMetadataBody }, async (request) =>
    ctx.backendOf(request).records.logMetadata(request.params._id, request.params._jobId, request.body),
  );
  on<{ Params: JobParams; Body: LogDataQuery }>(app, ROUTES.logData, { body: S.logDataBody }, async (request) =>
    ctx.backendOf(request).records.logData(request.params._id, request.params._jobId, request.body),
  );
  on<{ Params: JobParams & { _stepId: string; recordId: string }; Querystring: LogChildrenParams }>(app, ROUTES.logChildren, { querystring: S.logChildrenQuery }, async (request) =>
    ctx.backendOf(request).records.logChildren(request.params._id, request.params._jobId, request.params._stepId, request.params.recordId, request.query),
  );
}
