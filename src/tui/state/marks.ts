
import type { ErrorSelection } from '../../backend/contract/index.js';
// Marks on the errors table: explicit errorIds (space, ranges, shift-moves), or "every error that
// matches the filter" — kept as the query itself, never as a list of ids, so marking a million
// matches costs nothing and the bulk call selects them in the store.

export interface Marks {
  ids: ReadonlySet<string>;
  /**
   * Every error matching this query (the filter when it was marked; '' = every error of the step) up
   * to the newest one when it was marked: errors recorded later (automatic retries) are not marked.
   */
  all?: { query: string; upTo?: string };
  /** A range mark in progress: rows the cursor passes are marked. */
  range: boolean;
}

export type MarksAction =
  | { type: 'toggle'; errorId: string }
  | { type: 'add'; errorIds: readonly string[] }
  | { type: 'drop'; errorIds: readonly string[] }
  | { type: 'mark-all'; query: string; upTo?: string }
  | { type: 'range'; on: boolean; errorId?: string }
  | { type: 'clear' }
  /** The filter changed: "all matching" no longer means the same errors. */
  | { type: 'filter-changed' };

export const NO_MARKS: Marks = { ids: new Set(), range: false };

export function marksReducer(state: Marks, action: MarksAction): Marks {
  switch (action.type) {
    case 'toggle': {
      if (state.all) return state;
      const ids = new Set(state.ids);
      if (ids.has(action.errorId)) ids.delete(action.errorId);
      else ids.add(action.errorId);
      return { ...state, ids };
    }
    case 'add': {
      if (state.all || action.errorIds.every((id) => state.ids.has(id))) return state;
      return { ...state, ids: new Set([...state.ids, ...action.errorIds]) };
    }
    case 'drop': {
      if (!action.errorIds.some((id) => state.ids.has(id))) return state;
      const ids = new Set(state.ids);
      for (const id of action.errorIds) ids.delete(id);
      return { ...state, ids };
    }
    case 'mark-all':
      return { ids: new Set(), all: { query: action.query, ...(action.upTo ? { upTo: action.upTo } : {}) }, range: false };
    case 'range': {
      if (state.all) return state;
      if (!action.on) return { ...state, range: false };
      const ids = action.errorId ? new Set([...state.ids, action.errorId]) : state.ids;
      return { ...state, ids, range: true };
    }
    case 'clear':
      return NO_MARKS;
    case 'filter-changed':
      return state.all ? NO_MARKS : { ...state, range: false };
  }
}

export function isMarked(marks: Marks, errorId: string): boolean {
  return marks.all !== undefined || marks.ids.has(errorId);
}

export function hasMarks(marks: Marks): boolean {
  return marks.all !== undefined || marks.ids.size > 0;
}

/** The selection a bulk action sends: the marks, or else the row under the cursor. */
export function selectionOf(marks: Marks, cursorId: string | undefined): ErrorSelection | undefined {
  if (marks.all) {
    const bound = marks.all.upTo ? { upToErrorId: marks.all.upTo } : {};
    return marks.all.query.trim() ? { query: marks.all.query, ...bound } : { all: true, ...bound };
  }
  if (marks.ids.size > 0) return { errorIds: [...marks.ids] };
  return cursorId ? { errorIds: [cursorId] } : undefined;
}

/** Footer text for the marks. */
export function describeMarks(marks: Marks): string {
  if (marks.all) return marks.all.query.trim() ? `all matching ${marks.all.query}` : 'all errors of the step';
  if (marks.ids.size === 0) return marks.range ? 'range: move to mark' : '';
  return `${marks.ids.size.toLocaleString('en-US')} marked${marks.range ? ' (range: move to mark, v to end)' : ''}`;
}
