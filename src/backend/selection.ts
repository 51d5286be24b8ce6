import { InvalidInputError, NotFoundError } from '../domain/errors.js';
import { decodeId, idMatchesTime } from '../domain/ids.js';
import { parseQuery } from '../domain/query.js';
import type { StorePorts } from '../store/contract/ports.js';
import type { StepRow } from '../store/contract/rows.js';
import type { LocalBackend } from './local-backend.js';
import type { ErrorSelection } from './contract/index.js';

// Which errors a bulk action touches: explicit errorIds and/or retryDataKeys, every error of the
// step (`all`), or every error matching a query. Explicit errorIds must all exist on the step (and in
// the asked state) and keys must all be well-formed, or nothing happens: a typo must never
// half-apply a bulk action.

export interface SelectedErrors {
  step: StepRow;
  /** Error row ids, newest first. */
  rowIds: number[];
  /** Those of rowIds named by errorId (not only reached by a key or filter): checks that must name what they refuse use these. */
  byErrorIds: number[];
}

export function describeSelection(sel: ErrorSelection): 'ids' | 'keys' | 'all' | 'query' | 'none' {
  if (sel.errorIds?.length) return 'ids';
  if (sel.retryDataKeys?.length) return 'keys';
  if (sel.all) return 'all';
  if (sel.query?.trim()) return 'query';
  return 'none';
}

/** Which errors a selection walks: open or resolved ones. */
export type SelectionState = 'open' | 'resolved';

export interface SelectOptions {
  /** Explicit errorIds are taken open or resolved (tags); keys, --all and filters still walk `state`. */
  errorIdsInEitherState?: boolean;
}

/** `ports`: the transaction the caller's unit of work runs in (or the store, for a plain read). */
export async function selectErrors(
  local: LocalBackend,
  flowRef: string,
  stepRef: string,
  sel: ErrorSelection,
  state: SelectionState = 'open',
  options: SelectOptions = {},
  ports: StorePorts = local.store,
): Promise<SelectedErrors> {
  const flow = await local.resolveFlow(flowRef, ports);
  const step = await local.resolveStep(flow, stepRef, ports);
  const explicit = Boolean(sel.errorIds?.length || sel.retryDataKeys?.length);
  if (explicit && sel.all) throw new InvalidInputError('give error ids or retry-data keys, or --all, not both');
  if (explicit) {
    // errorIds and retryDataKeys may come together (a command line may mix them): the union of both.
    const byIds = sel.errorIds?.length ? await errorIdRows(ports, step, sel.errorIds, options.errorIdsInEitherState ? 'any' : state, sel.confirmed === true) : [];
    const byKeys = sel.retryDataKeys?.length ? await retryDataKeyRows(local, ports, step, sel.retryDataKeys, state) : [];
    return { step, rowIds: [...new Set([...byIds, ...byKeys])], byErrorIds: byIds };
  }
  if (!sel.all && !sel.query?.trim()) {
    throw new InvalidInputError('say which errors: give error ids, --all, or filters (see --help)');
  }
  const terms = parseQuery(sel.query ?? '').terms;
  const upTo = sel.upToErrorId === undefined ? undefined : boundOf(sel.upToErrorId);
  return {
    step,
    rowIds: await ports.errors.selectErrorIds({ step: step.key, resolved: state === 'resolved', terms, ...(upTo !== undefined ? { beforeId: upTo + 1 } : {}) }, await local.queryContext(ports)),
    byErrorIds: [],
  };
}

/** The row id of an upToErrorId bound; the error itself may be gone since (only its place in time counts). */
function boundOf(errorId: string): number {
  const decoded = decodeId('error', errorId);
  if (!decoded) throw new InvalidInputError(`"${errorId}" is not an errorId`, 'upToErrorId');
  return decoded.rowId;
}

/** The rows of explicit errorIds, in the order given; every one must be an error of the step in `state`. */
async function errorIdRows(ports: StorePorts, step: StepRow, errorIds: readonly string[], state: SelectionState | 'any', confirmed: boolean): Promise<number[]> {
  // One query per 1000 ids: 100,000 explicit ids are checked in well under a second.
  const wanted = [...new Set(errorIds)].map((id) => ({ id, decoded: decodeId('error', id) }));
  const found = new Map((await ports.errors.errorKeys(wanted.flatMap((w) => (w.decoded ? [w.decoded.rowId] : [])))).map((k) => [k.id, k]));
  const rowIds: number[] = [];
  for (const { id, decoded } of wanted) {
    const key = decoded ? found.get(decoded.rowId) : undefined;
    // A confirmed error deleted since is skipped (the caller reports how many of the set were left).
    if (confirmed && decoded && !key) continue;
    if (!key || !decoded || !idMatchesTime(decoded, key.occurredAt) || key.step !== step.key) {
      throw new NotFoundError(`${state === 'any' ? '' : `${state} `}error on step "${step.name}"`, id);
    }
    if (state !== 'any' && key.resolved !== (state === 'resolved')) {
      if (confirmed) continue;
      throw new InvalidInputError(`error ${id} is ${key.resolved ? 'resolved' : 'open'}, not ${state}`);
    }
    rowIds.push(key.id);
  }
  return rowIds;
}

/**
 * The step's errors in `state` that carry these retryDataKeys, newest first. A key that matches
 * nothing selects nothing (a retry of it queues nothing, as the API's); a text that is no
 * retryDataKey at all is a typo, refused like a malformed errorId, before anything changes.
 */
async function retryDataKeyRows(local: LocalBackend, ports: StorePorts, step: StepRow, keys: readonly string[], state: SelectionState): Promise<number[]> {
  const unique = [...new Set(keys)];
  const malformed = unique.find((key) => !decodeId('retryData', key));
  if (malformed !== undefined) throw new InvalidInputError(`"${malformed}" is not a retryDataKey`, 'retryDataKey');
  const ctx = await local.queryContext(ports);
  const rowIds: number[] = [];
  for (const key of unique) {
    const terms = [{ kind: 'field', field: 'retryDataKey', value: key, negate: false }] as const;
    for (const id of await ports.errors.selectErrorIds({ step: step.key, resolved: state === 'resolved', terms }, ctx)) rowIds.push(id);
  }
  return [...new Set(rowIds)].sort((a, b) => b - a);
}
