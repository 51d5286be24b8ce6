import type { FlowStepError, ResolvedFlowStepError } from '../../domain/api.js';
import { InvalidInputError, NotFoundError } from '../../domain/errors.js';
import { ROUTES } from '../wire/routes.js';
import { clientPredicate } from './client-query.js';
import { notAvailable, RemoteHttpError } from './remote-errors.js';
import type { RemoteBackend, StepRef } from './remote-backend.js';
import type { ErrorSelection } from '../contract/index.js';

// A selection made exact on the client, for a server that only has the spec's routes (they take
// explicit ids): the step's listing is paged through (nextPageURL) and the errors that the
// selection names are collected — every one for `all`, those up to `upToErrorId` (ids follow time),
// those carrying the given retryDataKeys, those a query matches (evaluated here, client-query.ts:
// the spec's listing cannot filter).

/** What the spec routes need of a selected error. */
export interface SelectedError {
  errorId: string;
  retryDataKey?: string;
  /** Read from a listing (or taken as given, unread): only a listed error's fields are known. */
  listed: boolean;
  assignedTo?: string;
  resolved: boolean;
}

/** The most errors a client-side selection reads. */
export const MAX_CLIENT_SELECTION = 200_000;
const PAGE_SIZE = 1000;

/** Every error of a step's open (or resolved) listing, page after page, in the server's order, until `visit` answers false. */
export async function walkErrors(backend: RemoteBackend, ref: StepRef, state: 'open' | 'resolved', visit: (error: FlowStepError | ResolvedFlowStepError) => boolean | void): Promise<void> {
  const route = state === 'open' ? ROUTES.listErrors : ROUTES.listResolved;
  const field = state === 'open' ? 'errors' : 'resolved';
  type Page = { errors?: FlowStepError[]; resolved?: ResolvedFlowStepError[]; nextPageURL?: string | null };
  let page = (await backend.http.call<Page>(route, { path: { _id: ref.flow._id, _stepId: ref.step._id }, query: { pageSize: PAGE_SIZE } })).body;
  const seen = new Set<string>();
  for (;;) {
    for (const error of page?.[field] ?? []) if (visit(error) === false) return;
    const next = page?.nextPageURL;
    if (!next) return;
    // A server handing out the same page URL twice would be paged forever.
    if (seen.has(next)) throw new RemoteHttpError(`${backend.url} handed out the same nextPageURL twice while listing errors`, 502, 'bad_page_url');
    seen.add(next);
    page = (await backend.http.follow<Page>(next)).body;
  }
}

export interface ClientSelectOptions {
  /** Read the listing also for explicit error ids (to learn their retryDataKeys or assignees). */
  needListing?: boolean;
  /** Explicit error ids are taken open or resolved (tags), as the local backend takes them. */
  errorIdsInEitherState?: boolean;
}

export async function selectOnClient(backend: RemoteBackend, ref: StepRef, selection: ErrorSelection, state: 'open' | 'resolved', options: ClientSelectOptions = {}): Promise<SelectedError[]> {
  const ids = selection.errorIds?.filter((id) => id.trim() !== '') ?? [];
  const keys = selection.retryDataKeys?.filter((k) => k.trim() !== '') ?? [];
  const explicit = ids.length > 0 || keys.length > 0;
  if (explicit && selection.all) throw new InvalidInputError('give error ids or retry-data keys, or --all, not both');
  if (!explicit && !selection.all && !selection.query?.trim()) throw new InvalidInputError('say which errors: give error ids, --all, or filters (see --help)');
  // The query language evaluated here: the spec's listing cannot filter.
  const matches = explicit ? undefined : clientPredicate(selection.query, backend.url);
  // Explicit error ids go as they are (the spec's routes skip ids that are not there), unless the
  // caller needs what the listing says of them, or the set was confirmed earlier: then only those
  // still in the state are acted on and reported, as locally.
  if (ids.length > 0 && keys.length === 0 && !options.needListing && !selection.confirmed) return [...new Set(ids)].map((errorId) => ({ errorId, listed: false, resolved: state === 'resolved' }));

  const wantedIds = new Set(ids.map((id) => id.toLowerCase()));
  const wantedKeys = new Set(keys);
  const upTo = selection.upToErrorId?.toLowerCase();
  const out: SelectedError[] = [];
  const found = new Set<string>();
  let read = 0;
  const walk = (listing: 'open' | 'resolved', idsOnly: boolean) =>
    walkErrors(backend, ref, listing, (e) => {
      if (++read > MAX_CLIENT_SELECTION) throw notAvailable(`acting on a selection of more than ${MAX_CLIENT_SELECTION.toLocaleString('en-US')} errors`, backend.url);
      const id = e.errorId.toLowerCase();
      const hit = explicit
        ? wantedIds.has(id) || (!idsOnly && e.retryDataKey !== undefined && wantedKeys.has(e.retryDataKey))
        : (upTo === undefined || id <= upTo) && (matches === undefined || matches(e));
      if (!hit || found.has(id)) return;
      found.add(id);
      const item: SelectedError = { errorId: e.errorId, listed: true, resolved: listing === 'resolved' };
      if (e.retryDataKey) item.retryDataKey = e.retryDataKey;
      if (e.assignedTo) item.assignedTo = e.assignedTo;
      out.push(item);
    });
  await walk(state, false);
  const missing = () => ids.filter((id) => !found.has(id.toLowerCase()));
  // Keys, --all and filters walk `state` only; explicit ids may also be in the other state.
  if (options.errorIdsInEitherState && missing().length > 0) await walk(state === 'open' ? 'resolved' : 'open', true);
  const unknown = missing()[0];
  if (unknown !== undefined && !selection.confirmed) throw new NotFoundError(`${options.errorIdsInEitherState ? '' : `${state} `}error on step "${ref.step.name}"`, unknown);
  return out;
}

/** Ids in batches the platform takes (it caps a batch at about 1000). */
export function batches<T>(items: readonly T[], size = 1000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
