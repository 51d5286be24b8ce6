import type { FastifyInstance } from 'fastify';
import type { ErrorSelection, TagSelection, TagUpdate } from '../../backend/contract/index.js';
import { ROUTES } from '../../backend/wire/routes.js';
import * as S from '../schemas.js';
import { noContent, on, type RouteContext } from './define.js';

// Assign, unassign, tag, resolve, reopen and delete resolved errors: the spec's routes with explicit
// ids and the spec's statuses, flowdeck's with any selection and the affected errors (or a dry run)
// in the answer. Then the tag catalog, the users and the config.

type StepParams = { _id: string; _stepId: string };
type SelectionBody = { selection: ErrorSelection; dryRun?: boolean };
const options = (body: { dryRun?: boolean }) => (body.dryRun !== undefined ? { dryRun: body.dryRun } : {});

export function triageRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // ---- the spec's
  on<{ Params: StepParams; Body: { errorIds: string[]; email: string } }>(app, ROUTES.assign, { body: S.assignBody }, async (request) =>
    ctx.backendOf(request).triage.assign(request.params._id, request.params._stepId, { errorIds: request.body.errorIds }, request.body.email),
  );
  on<{ Params: StepParams; Body: { errorIds: string[] } }>(app, ROUTES.unassign, { body: S.unassignBody }, async (request) =>
    ctx.backendOf(request).triage.unassign(request.params._id, request.params._stepId, { errorIds: request.body.errorIds }),
  );
  on<{ Params: StepParams; Body: { errors: Array<{ id: string }>; tagIds: string[] } }>(app, ROUTES.setTags, { body: S.tagsBody }, async (request) =>
    // The spec's tagIds replace the errors' tags.
    ctx.backendOf(request).triage.setTags(request.params._id, request.params._stepId, { errorIds: request.body.errors.map((e) => e.id) }, { set: request.body.tagIds }),
  );
  on<{ Params: StepParams; Body: { errors: string[] } }>(app, ROUTES.resolve, { body: S.errorsBody }, async (request, reply) => {
    await ctx.backendOf(request).triage.resolve(request.params._id, request.params._stepId, { errorIds: request.body.errors });
    return noContent(reply);
  });
  on<{ Params: StepParams; Body: { errors: string[] } }>(app, ROUTES.deleteResolved, { body: S.errorsBody }, async (request, reply) => {
    await ctx.backendOf(request).triage.deleteResolved(request.params._id, request.params._stepId, { errorIds: request.body.errors });
    return noContent(reply);
  });

  // ---- flowdeck's: any selection, the affected errors answered
  on<{ Params: StepParams; Body: SelectionBody & { email: string } }>(app, ROUTES.assignSelection, { body: S.assignSelectionBody }, async (request) =>
    ctx.backendOf(request).triage.assign(request.params._id, request.params._stepId, request.body.selection, request.body.email, options(request.body)),
  );
  on<{ Params: StepParams; Body: SelectionBody }>(app, ROUTES.unassignSelection, { body: S.selectionBody }, async (request) =>
    ctx.backendOf(request).triage.unassign(request.params._id, request.params._stepId, request.body.selection, options(request.body)),
  );
  on<{ Params: StepParams; Body: { selection: TagSelection; update: TagUpdate; dryRun?: boolean } }>(app, ROUTES.setTagsSelection, { body: S.tagsSelectionBody }, async (request) =>
    ctx.backendOf(request).triage.setTags(request.params._id, request.params._stepId, request.body.selection, request.body.update, options(request.body)),
  );
  on<{ Params: StepParams; Body: SelectionBody }>(app, ROUTES.resolveSelection, { body: S.selectionBody }, async (request) =>
    ctx.backendOf(request).triage.resolve(request.params._id, request.params._stepId, request.body.selection, options(request.body)),
  );
  on<{ Params: StepParams; Body: SelectionBody }>(app, ROUTES.reopenSelection, { body: S.selectionBody }, async (request) =>
    ctx.backendOf(request).triage.reopen(request.params._id, request.params._stepId, request.body.selection, options(request.body)),
  );
  on<{ Params: StepParams; Body: SelectionBody }>(app, ROUTES.deleteResolvedSelection, { body: S.selectionBody }, async (request) =>
    ctx.backendOf(request).triage.deleteResolved(request.params._id, request.params._stepId, request.body.selection, options(request.body)),
  );

  // ---- tags, users, config
  on(app, ROUTES.listTags, {}, async (request) => ctx.backendOf(request).triage.listTags());
  on<{ Body: { name: string; code?: string } }>(app, ROUTES.createTag, { body: S.createTagBody }, async (request) =>
    ctx.backendOf(request).triage.createTag(request.body.name, request.body.code),
  );
  on<{ Params: { tagId: string }; Querystring: { dryRun?: boolean } }>(app, ROUTES.deleteTag, { querystring: S.dryRunQuery }, async (request) =>
    ctx.backendOf(request).triage.deleteTag(request.params.tagId, options(request.query)),
  );
  on(app, ROUTES.listUsers, {}, async (request) => ctx.backendOf(request).triage.listUsers());
  on<{ Querystring: { key?: string } }>(app, ROUTES.getConfig, { querystring: S.configQuery }, async (request) => ({
    value: await ctx.backendOf(request).triage.getConfig(request.query.key),
  }));
  on<{ Params: { key: string }; Body: { value: unknown } }>(app, ROUTES.setConfig, { body: S.setConfigBody }, async (request, reply) => {
    await ctx.backendOf(request).triage.setConfig(request.params.key, request.body.value);
    return noContent(reply);
  });
}
