import { InvalidInputError, NotFoundError } from '../domain/errors.js';
import { decodeId, idMatchesTime } from '../domain/ids.js';
import { parseQuery } from '../domain/query.js';
import type { StepRow } from '../store/rows.js';
import type { LocalBackend } from './local-backend.js';

// Which errors a bulk action touches: explicit errorIds, explicit retryDataKeys, every error of the
// step (`all`), or every error matching a query. Explicit ids must all exist on the step (and in the
// asked state), or nothing happens: a typo must never half-apply a bulk action.

export interface ErrorSelection {
  errorIds?: string[];
  retryDataKeys?: string[];
  all?: boolean;
  /** Query-language text; with `all` unset, a non-empty query selects its matches. */
  query?: string;
}

export interface SelectedErrors {
  step: StepRow;
  /** Error row ids, newest first. */
  rowIds: number[];
}

export function describeSelection(sel: ErrorSelection): 'ids' | 'keys' | 'all' | 'query' | 'none' {
  if (sel.errorIds?.length) return 'ids';
  if (sel.retryDataKeys?.length) return 'keys';
  if (sel.all) return 'all';
  if (sel.query?.trim()) return 'query';
  return 'none';
}

/** Errors in `state`: open, resolved, or (explicit ids only) either. */
export type SelectionState = 'open' | 'resolved' | 'any';

export function selectErrors(local: LocalBackend, flowRef: string, stepRef: string, sel: ErrorSelection, state: SelectionState = 'open'): SelectedErrors {
  const flow = local.resolveFlow(flowRef);
  const step = local.resolveStep(flow, stepRef);
  const store = local.ws.store;
  const kinds = [sel.errorIds?.length, sel.retryDataKeys?.length, sel.all || undefined].filter(Boolean).length;
  if (kinds > 1) throw new InvalidInputError('give error ids, retry-data keys or --all, not several of them');
  const resolved = state === 'resolved';
  if (sel.errorIds?.length) {
    // One query per 1000 ids: 100,000 explicit ids are checked in well under a second.
    const wanted = [...new Set(sel.errorIds)].map((id) => ({ id, decoded: decodeId('error', id) }));
    const found = new Map(store.errorKeys(wanted.flatMap((w) => (w.decoded ? [w.decoded.rowId] : []))).map((k) => [k.id, k]));
    const rowIds: number[] = [];
    for (const { id, decoded } of wanted) {
      const key = decoded ? found.get(decoded.rowId) : undefined;
      if (!key || !decoded || !idMatchesTime(decoded, key.occurredAt) || key.step !== step.key) {
        throw new NotFoundError(`${state === 'any' ? '' : `${state} `}error on step "${step.name}"`, id);
      }
      if (state !== 'any' && key.resolved !== resolved) {
        throw new InvalidInputError(`error ${id} is ${key.resolved ? 'resolved' : 'open'}, not ${state}`);
      }
      rowIds.push(key.id);
    }
    return { step, rowIds };
  }
  const ctx = local.queryContext();
  if (sel.retryDataKeys?.length) {
    const rowIds: number[] = [];
    for (const key of new Set(sel.retryDataKeys)) {
      const decoded = decodeId('retryData', key);
      if (!decoded) continue;
      rowIds.push(...store.selectErrorIds({ step: step.key, resolved, terms: [{ kind: 'field', field: 'retryDataKey', value: key, negate: false }] }, ctx));
    }
    return { step, rowIds: [...new Set(rowIds)].sort((a, b) => b - a) };
  }
  if (!sel.all && !sel.query?.trim()) {
    throw new InvalidInputError('say which errors: give error ids, --all, or filters (see --help)');
  }
  const terms = parseQuery(sel.query ?? '').terms;
  return { step, rowIds: store.selectErrorIds({ step: step.key, resolved, terms }, ctx) };
}
