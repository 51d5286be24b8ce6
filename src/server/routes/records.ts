import type { FastifyInstance } from 'fastify';
import type { ErrorSelection, RequestListParams } from '../../backend/contract/index.js';
import { ROUTES } from '../../backend/wire/routes.js';
import type { PatchOp } from '../../domain/json-patch.js';
import * as S from '../schemas.js';
import { noContent, on, type RouteContext } from './define.js';

// Retry-data snapshots (read, replace as the spec does with 204, check without storing, patch a
// selection's) and the masked request traces of a step's failures.

type StepParams = { _id: string; _stepId: string };
type KeyParams = StepParams & { retryDataKey: string };

export function recordRoutes(app: FastifyInstance, ctx: RouteContext): void {
  on<{ Params: KeyParams }>(app, ROUTES.getRetryData, {}, async (request) =>
    ctx.backendOf(request).records.getRetryData(request.params._id, request.params._stepId, request.params.retryDataKey),
  );
  on<{ Params: KeyParams; Body: unknown }>(app, ROUTES.putRetryData, { body: S.retryDataBody }, async (request, reply) => {
    await ctx.backendOf(request).records.putRetryData(request.params._id, request.params._stepId, request.params.retryDataKey, request.body);
    return noContent(reply);
  });
  on<{ Params: KeyParams; Body: unknown }>(app, ROUTES.checkRetryData, { body: S.retryDataBody }, async (request) =>
    ctx.backendOf(request).records.putRetryData(request.params._id, request.params._stepId, request.params.retryDataKey, request.body, { dryRun: true }),
  );
  on<{ Params: StepParams; Body: { selection: ErrorSelection; ops: PatchOp[]; dryRun?: boolean } }>(app, ROUTES.patchRetryData, { body: S.patchRetryDataBody }, async (request) => {
    const { selection, ops, dryRun } = request.body;
    return ctx.backendOf(request).records.patchRetryData(request.params._id, request.params._stepId, selection, ops, dryRun !== undefined ? { dryRun } : {});
  });

  on<{ Params: StepParams; Querystring: { time_lte?: number; time_gt?: number; statusCode?: string; method?: string; stage?: string; pageSize?: number; before?: string } }>(
    app,
    ROUTES.listRequests,
    { querystring: S.requestListQuery },
    async (request) => {
      const { time_lte, time_gt, ...rest } = request.query;
      const params: RequestListParams = { ...rest, ...(time_lte !== undefined ? { timeLte: time_lte } : {}), ...(time_gt !== undefined ? { timeGt: time_gt } : {}) };
      return ctx.backendOf(request).records.listRequests(request.params._id, request.params._stepId, params);
    },
  );
  on<{ Params: StepParams & { reqAndResKey: string } }>(app, ROUTES.getRequest, {}, async (request) =>
    ctx.backendOf(request).records.getRequest(request.params._id, request.params._stepId, request.params.reqAndResKey),
  );
  on<{ Params: StepParams; Querystring: { dryRun?: boolean }; Body: { keys: string[] } }>(app, ROUTES.deleteRequests, { querystring: S.dryRunQuery, body: S.deleteRequestsBody }, async (request) =>
    ctx.backendOf(request).records.deleteRequests(request.params._id, request.params._stepId, request.body.keys, request.query.dryRun !== undefined ? { dryRun: request.query.dryRun } : {}),
  );
}
