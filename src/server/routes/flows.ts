import type { FlowInfo } from '../../backend/contract/index.js';
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../backend/wire/routes.js';
import type { GroupSort } from '../../backend/contract/index.js';
import { errorBody } from '../errors.js';
import * as S from '../schemas.js';
import { noContent, on, type RouteContext } from './define.js';

// Who the server is, the flows (list, read, enable/disable by JSON patch, run), and their errors
// counted per step and grouped by signature.

type FlowParams = { _id: string };

export function flowRoutes(app: FastifyInstance, ctx: RouteContext): void {
  on(app, ROUTES.whoami, {}, async (request) => ({ email: (await ctx.backendOf(request).whoami()).email, server: 'flowdeck', version: ctx.version }));

  on(app, ROUTES.listFlows, {}, async (request, reply) => {
    const flows = await ctx.backendOf(request).listFlows();
    // The spec: no flows is a 204, not an empty list.
    return flows.length === 0 ? noContent(reply) : flows.map(served);
  });

  on<{ Params: FlowParams }>(app, ROUTES.getFlow, {}, async (request) => served(await ctx.backendOf(request).getFlow(request.params._id)));

  on<{ Params: FlowParams; Body: Array<{ op: string; path: string; value?: unknown }> }>(app, ROUTES.patchFlow, { body: S.jsonPatchBody }, async (request, reply) => {
    // The one field flowdeck lets a patch change: /disabled, to a boolean.
    const ops = request.body;
    const bad = ops.find((op) => op.path !== '/disabled' || typeof op.value !== 'boolean');
    if (bad) return reply.code(422).send(errorBody('invalid_patch', `only "/disabled" can be patched, to true or false (got ${JSON.stringify(bad.path)})`, 'path'));
    const backend = ctx.backendOf(request);
    for (const op of ops) await backend.records.setFlowDisabled(request.params._id, op.value as boolean);
    return noContent(reply);
  });

  on<{ Params: FlowParams }>(app, ROUTES.runFlow, {}, async (request) => ctx.backendOf(request).runFlow(request.params._id));

  on<{ Params: FlowParams }>(app, ROUTES.flowErrors, {}, async (request) => ctx.backendOf(request).flowErrors(request.params._id));

  on(app, ROUTES.filterMetadata, {}, async (request) => ctx.backendOf(request).filterMetadata());

  on<{ Params: FlowParams; Querystring: { stepId?: string; q?: string; sort?: GroupSort; limit?: number; resolved?: boolean } }>(
    app,
    ROUTES.errorGroups,
    { querystring: S.groupsQuery },
    async (request) => {
      const { stepId, q, ...rest } = request.query;
      return ctx.backendOf(request).errorGroups(request.params._id, stepId, { ...rest, ...(q !== undefined ? { query: q } : {}) });
    },
  );
}

/** A flow as a client sees it: the flow file's path is the server's business, not the client's. */
function served(flow: FlowInfo): FlowInfo {
  const { file: _file, ...rest } = flow;
  return rest;
}
