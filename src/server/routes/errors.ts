import type { FastifyInstance } from 'fastify';
import type { ErrorListParams, FacetField } from '../../backend/contract/index.js';
import { ROUTES } from '../../backend/wire/routes.js';
import * as S from '../schemas.js';
import { on, type RouteContext } from './define.js';

// A step's open and resolved errors page by page (the query strings nextPageURL carries), counted,
// faceted, and one error by its id.

type StepParams = { _id: string; _stepId: string };
type ListQuery = { q?: string; pageSize?: number; before?: string; order?: 'asc' | 'desc'; after?: string };

/** The listing's query string as the Backend's parameters. */
export function listParams(query: ListQuery): ErrorListParams {
  const params: ErrorListParams = {};
  if (query.q !== undefined) params.query = query.q;
  if (query.pageSize !== undefined) params.limit = query.pageSize;
  if (query.before !== undefined) params.before = query.before;
  if (query.order !== undefined) params.order = query.order;
  if (query.after !== undefined) params.after = query.after;
  return params;
}

export function errorRoutes(app: FastifyInstance, ctx: RouteContext): void {
  on<{ Params: StepParams; Querystring: ListQuery }>(app, ROUTES.listErrors, { querystring: S.errorListQuery }, async (request) =>
    ctx.backendOf(request).listErrors(request.params._id, request.params._stepId, listParams(request.query)),
  );

  on<{ Params: StepParams; Querystring: ListQuery }>(app, ROUTES.listResolved, { querystring: S.errorListQuery }, async (request) =>
    ctx.backendOf(request).triage.listResolved(request.params._id, request.params._stepId, listParams(request.query)),
  );

  on<{ Params: StepParams; Querystring: { q?: string; resolved?: boolean } }>(app, ROUTES.countErrors, { querystring: S.countQuery }, async (request) => {
    const { q, resolved } = request.query;
    const count = await ctx.backendOf(request).countErrors(request.params._id, request.params._stepId, { ...(q !== undefined ? { query: q } : {}), ...(resolved !== undefined ? { resolved } : {}) });
    return { count };
  });

  on<{ Params: StepParams; Querystring: { field: FacetField } }>(app, ROUTES.errorFacets, { querystring: S.facetsQuery }, async (request) =>
    ctx.backendOf(request).errorFacets(request.params._id, request.params._stepId, request.query.field),
  );

  on<{ Params: { errorId: string } }>(app, ROUTES.getError, {}, async (request) => ctx.backendOf(request).triage.getError(request.params.errorId));
}
