import type { FlowStepAffectedErrorsResponse, FlowStepErrorsUnassignResponse, FlowStepResolvedResponse, FlowStepTagsResponse } from '../../domain/api.js';
import { ROUTES, type Route } from '../wire/routes.js';
import { notAvailable } from './remote-errors.js';
import type { RemoteBackend, StepRef } from './remote-backend.js';
import { batches, selectOnClient, type SelectedError } from './remote-selection.js';
import type { DeletedTag, ErrorDetail, ErrorListParams, ErrorSelection, MutationOptions, TagInfo, TagSelection, TagUpdate, TriageApi, UserInfo } from '../contract/index.js';

// Triage over HTTP. A flowdeck server takes any selection on its extension routes and answers what
// changed (dry runs included). A plain spec server takes explicit ids on the spec's routes: the
// selection is made exact here first (remote-selection.ts), then sent in batches; a dry run answers
// the ids that would be sent. What the spec has no route for says it is not available there.

export class RemoteTriage implements TriageApi {
  constructor(private readonly remote: RemoteBackend) {}

  private get http() {
    return this.remote.http;
  }

  private async flowdeck(): Promise<boolean> {
    return (await this.remote.server()).flowdeck;
  }

  private static path(ref: StepRef): Record<string, string> {
    return { _id: ref.flow._id, _stepId: ref.step._id };
  }

  /** A flowdeck extension route answering the Backend's shape: `{ selection, …options }` in. */
  private async extension<T>(route: Route, ref: StepRef, body: Record<string, unknown>, options: MutationOptions): Promise<T> {
    const { body: answer } = await this.http.call<T>(route, { path: RemoteTriage.path(ref), body: { ...body, ...(options.dryRun ? { dryRun: true } : {}) } });
    return answer as T;
  }

  async getError(errorId: string): Promise<ErrorDetail> {
    await this.remote.requireFlowdeck('errors show');
    return (await this.http.call<ErrorDetail>(ROUTES.getError, { path: { errorId } })).body!;
  }

  async assign(flowRef: string, stepRef: string, selection: ErrorSelection, email: string, options: MutationOptions = {}): Promise<FlowStepAffectedErrorsResponse> {
    const ref = await this.remote.stepOf(flowRef, stepRef);
    const address = await this.remote.emailOf(email);
    if (await this.flowdeck()) return this.extension(ROUTES.assignSelection, ref, { selection, email: address }, options);
    const selected = await selectOnClient(this.remote, ref, selection, 'open');
    const errorIds = selected.map((e) => e.errorId);
    if (options.dryRun || errorIds.length === 0) return { errorsToReturn: errorIds };
    const changed: string[] = [];
    for (const batch of batches(errorIds)) {
      const { body } = await this.http.call<FlowStepAffectedErrorsResponse>(ROUTES.assign, { path: RemoteTriage.path(ref), body: { errorIds: batch, email: address } });
      changed.push(...(body?.errorsToReturn ?? batch));
    }
    return { errorsToReturn: changed };
  }

  async unassign(flowRef: string, stepRef: string, selection: ErrorSelection, options: MutationOptions = {}): Promise<FlowStepErrorsUnassignResponse> {
    const ref = await this.remote.stepOf(flowRef, stepRef);
    if (await this.flowdeck()) return this.extension(ROUTES.unassignSelection, ref, { selection }, options);
    // Only assigned errors change; the listing says which (explicit ids are taken as they are).
    const selected = (await selectOnClient(this.remote, ref, selection, 'open')).filter((e) => !e.listed || e.assignedTo !== undefined);
    const errorIds = selected.map((e) => e.errorId);
    if (options.dryRun || errorIds.length === 0) return { errorsToReturn: errorIds };
    const changed: string[] = [];
    for (const batch of batches(errorIds)) {
      const { body } = await this.http.call<FlowStepErrorsUnassignResponse>(ROUTES.unassign, { path: RemoteTriage.path(ref), body: { errorIds: batch } });
      changed.push(...(body?.errorsToReturn ?? batch));
    }
    return { errorsToReturn: changed };
  }

  async resolve(flowRef: string, stepRef: string, selection: ErrorSelection, options: MutationOptions = {}): Promise<FlowStepAffectedErrorsResponse> {
    const ref = await this.remote.stepOf(flowRef, stepRef);
    if (await this.flowdeck()) return this.extension(ROUTES.resolveSelection, ref, { selection }, options);
    return this.idsOnSpecRoute(ROUTES.resolve, ref, await selectOnClient(this.remote, ref, selection, 'open'), options);
  }

  async deleteResolved(flowRef: string, stepRef: string, selection: ErrorSelection, options: MutationOptions = {}): Promise<FlowStepAffectedErrorsResponse> {
    const ref = await this.remote.stepOf(flowRef, stepRef);
    if (await this.flowdeck()) return this.extension(ROUTES.deleteResolvedSelection, ref, { selection }, options);
    return this.idsOnSpecRoute(ROUTES.deleteResolved, ref, await selectOnClient(this.remote, ref, selection, 'resolved'), options);
  }

  /** PUT …/resolved and DELETE …/resolved: `{ errors: [ids] }` in, 204 out; the ids sent are the ids changed. */
  private async idsOnSpecRoute(route: Route, ref: StepRef, selected: SelectedError[], options: MutationOptions): Promise<FlowStepAffectedErrorsResponse> {
    const errorIds = selected.map((e) => e.errorId);
    if (!options.dryRun) for (const batch of batches(errorIds)) await this.http.call(route, { path: RemoteTriage.path(ref), body: { errors: batch } });
    return { errorsToReturn: errorIds };
  }

  async reopen(flowRef: string, stepRef: string, selection: ErrorSelection, options: MutationOptions = {}): Promise<FlowStepAffectedErrorsResponse> {
    await this.remote.requireFlowdeck('reopening resolved errors');
    const ref = await this.remote.stepOf(flowRef, stepRef);
    return this.extension(ROUTES.reopenSelection, ref, { selection }, options);
  }

  async listResolved(flowRef: string, stepRef: string, params: ErrorListParams = {}): Promise<FlowStepResolvedResponse> {
    return this.remote.listResolved(flowRef, stepRef, params);
  }

  async setTags(flowRef: string, stepRef: string, selection: TagSelection, update: TagUpdate, options: MutationOptions = {}): Promise<FlowStepTagsResponse> {
    const ref = await this.remote.stepOf(flowRef, stepRef);
    if (await this.flowdeck()) return this.extension(ROUTES.setTagsSelection, ref, { selection, update }, options);
    // The spec's PUT …/tags replaces the tag set with tag codes; adding or removing one tag needs
    // each error's codes, which the spec's listing does not give (it shows tag names).
    if (update.set === undefined || update.add !== undefined || update.remove !== undefined) throw notAvailable('adding or removing single tags (use --set with tag codes)', this.remote.url);
    const state = selection.resolved ? 'resolved' : 'open';
    const { resolved: _resolved, ...errorSelection } = selection;
    // The listing gives each error's retryDataKey, which the spec's body pairs with its id.
    const selected = await selectOnClient(this.remote, ref, errorSelection, state, { needListing: true, errorIdsInEitherState: true });
    const tagIds = update.set.map((t) => t.trim()).filter((t) => t !== '');
    const changed: FlowStepTagsResponse = { errorsToReturn: { errors: [], resolved: [] } };
    if (options.dryRun) {
      for (const e of selected) changed.errorsToReturn[e.resolved ? 'resolved' : 'errors'].push(e.errorId);
      return changed;
    }
    for (const batch of batches(selected)) {
      const errors = batch.map((e) => (e.retryDataKey ? { id: e.errorId, rdk: e.retryDataKey } : { id: e.errorId }));
      const { body } = await this.http.call<FlowStepTagsResponse>(ROUTES.setTags, { path: RemoteTriage.path(ref), body: { errors, tagIds } });
      changed.errorsToReturn.errors.push(...(body?.errorsToReturn.errors ?? []));
      changed.errorsToReturn.resolved.push(...(body?.errorsToReturn.resolved ?? []));
    }
    return changed;
  }

  // ---- the tag catalog, users, config: flowdeck's ---------------------------------------------

  async listTags(): Promise<TagInfo[]> {
    await this.remote.requireFlowdeck('tags list');
    return listOf<TagInfo>((await this.http.call<unknown>(ROUTES.listTags)).body, 'tags');
  }

  async createTag(name: string, code?: string): Promise<TagInfo> {
    await this.remote.requireFlowdeck('tags create');
    return (await this.http.call<TagInfo>(ROUTES.createTag, { body: code !== undefined ? { name, code } : { name } })).body!;
  }

  async deleteTag(codeOrName: string, options: MutationOptions = {}): Promise<DeletedTag> {
    await this.remote.requireFlowdeck('tags delete');
    return (await this.http.call<DeletedTag>(ROUTES.deleteTag, { path: { tagId: codeOrName }, query: { dryRun: options.dryRun ? true : undefined } })).body!;
  }

  async listUsers(): Promise<UserInfo[]> {
    await this.remote.requireFlowdeck('users list');
    return listOf<UserInfo>((await this.http.call<unknown>(ROUTES.listUsers)).body, 'users');
  }

  async getConfig(key?: string): Promise<unknown> {
    await this.remote.requireFlowdeck('config get');
    // Answered as `{ value }`: a config value may itself be anything, an object included.
    const { body } = await this.http.call<{ value?: unknown }>(ROUTES.getConfig, { query: { key: key || undefined } });
    return body?.value;
  }

  async setConfig(key: string, value: unknown): Promise<void> {
    await this.remote.requireFlowdeck('config set');
    await this.http.call(ROUTES.setConfig, { path: { key }, body: { value } });
  }
}

/** A list answered bare or wrapped (`{ tags: […] }`). */
export function listOf<T>(body: unknown, field: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const inner = body && typeof body === 'object' ? (body as Record<string, unknown>)[field] : undefined;
  return Array.isArray(inner) ? (inner as T[]) : [];
}
