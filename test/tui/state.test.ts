import { describe, expect, it } from 'vitest';
import { encodeId } from '../../src/domain/ids.js';
import {
  initialWindow,
  MAX_ROWS,
  PAGE,
  position,
  rowIdOf,
  visibleRows,
  windowReducer,
  type ErrorRow,
  type ErrorWindow,
  type Fetch,
  type FetchResult,
} from '../../src/tui/state/error-window.js';
import { initialList, listReducer, visibleRange } from '../../src/tui/state/list.js';
import { hasMarks, isMarked, marksReducer, NO_MARKS, selectionOf } from '../../src/tui/state/marks.js';
import { initialNav, navReducer, currentRoute } from '../../src/tui/state/nav.js';
import { filterOptions, IDLE, nextTagChoice, promptReducer, tagAnswer } from '../../src/tui/state/prompt.js';
import { initialTextInput, textInputReducer } from '../../src/tui/state/text-input.js';

// The TUI's state as plain functions: no rendering, no backend.

describe('list window', () => {
  it('scrolls only when the cursor leaves the window, and clamps when the rows change', () => {
    let s = initialList(5, 'cursor', 20);
    s = listReducer(s, { type: 'move', delta: 4 });
    expect(s).toMatchObject({ cursor: 4, offset: 0 });
    s = listReducer(s, { type: 'move', delta: 1 });
    expect(s).toMatchObject({ cursor: 5, offset: 1 });
    s = listReducer(s, { type: 'page', direction: 1 });
    expect(s).toMatchObject({ cursor: 9, offset: 5 });
    s = listReducer(s, { type: 'bottom' });
    expect(s).toMatchObject({ cursor: 19, offset: 15 });
    expect(visibleRange(s)).toEqual({ from: 15, to: 20 });
    s = listReducer(s, { type: 'set-count', count: 3 });
    expect(s).toMatchObject({ cursor: 2, offset: 0 });
    s = listReducer(s, { type: 'top' });
    expect(s).toMatchObject({ cursor: 0, offset: 0 });
  });

  it('a text page scrolls its window and stops at the last page', () => {
    let s = initialList(10, 'scroll', 25);
    s = listReducer(s, { type: 'move', delta: 3 });
    expect(s.offset).toBe(3);
    s = listReducer(s, { type: 'bottom' });
    expect(s.offset).toBe(15);
    s = listReducer(s, { type: 'move', delta: 5 });
    expect(s.offset).toBe(15);
    s = listReducer(s, { type: 'resize', height: 30 });
    expect(s.offset).toBe(0);
  });
});

describe('navigation stack', () => {
  it('pushes, pops to the root and no further, and jumps keeping shared entries', () => {
    let s = initialNav();
    s = navReducer(s, { type: 'push', route: { view: 'steps', flowId: 'f', flowName: 'F' } });
    s = navReducer(s, { type: 'push', route: { view: 'errors', flowId: 'f', flowName: 'F', stepId: 's', stepName: 'S' } });
    expect(s.stack.map((e) => e.route.view)).toEqual(['flows', 'steps', 'errors']);
    const keys = s.stack.map((e) => e.key);
    s = navReducer(s, { type: 'jump', routes: [{ view: 'flows' }, { view: 'steps', flowId: 'f', flowName: 'F' }] });
    expect(s.stack.map((e) => e.key)).toEqual(keys.slice(0, 2));
    s = navReducer(s, { type: 'pop' });
    s = navReducer(s, { type: 'pop' });
    expect(currentRoute(s)).toEqual({ view: 'flows' });
    expect(s.stack).toHaveLength(1);
  });
});

describe('marks', () => {
  it('toggles ids, adds ranges, and marks every match as a query, not as ids', () => {
    let m = marksReducer(NO_MARKS, { type: 'toggle', errorId: 'a' });
    m = marksReducer(m, { type: 'add', errorIds: ['b', 'c'] });
    m = marksReducer(m, { type: 'toggle', errorId: 'a' });
    expect([...m.ids]).toEqual(['b', 'c']);
    expect(selectionOf(m, 'z')).toEqual({ errorIds: ['b', 'c'] });
    m = marksReducer(m, { type: 'mark-all', query: 'code:422' });
    expect(m.ids.size).toBe(0);
    expect(isMarked(m, 'anything')).toBe(true);
    expect(selectionOf(m, 'z')).toEqual({ query: 'code:422' });
    expect(selectionOf(marksReducer(NO_MARKS, { type: 'mark-all', query: '' }), 'z')).toEqual({ all: true });
    // A new filter means other errors: "all matching" is dropped, explicit ids are kept.
    expect(hasMarks(marksReducer(m, { type: 'filter-changed' }))).toBe(false);
    const ids = marksReducer(NO_MARKS, { type: 'add', errorIds: ['x'] });
    expect([...marksReducer(ids, { type: 'filter-changed' }).ids]).toEqual(['x']);
    expect(selectionOf(NO_MARKS, 'cursor')).toEqual({ errorIds: ['cursor'] });
    expect(selectionOf(NO_MARKS, undefined)).toBeUndefined();
  });
});

describe('prompt lifecycle and inputs', () => {
  it('goes idle → loading → open → (invalid) → idle, and ignores a stale open', () => {
    let s = promptReducer(IDLE, { type: 'load', id: 1, label: 'Loading users…' });
    expect(s).toEqual({ status: 'loading', id: 1, label: 'Loading users…' });
    s = promptReducer(s, { type: 'open', id: 1, spec: { kind: 'confirm', message: 'Go?' } });
    expect(s.status).toBe('open');
    s = promptReducer(s, { type: 'invalid', id: 1, message: 'bad' });
    expect(s).toMatchObject({ status: 'open', error: 'bad' });
    s = promptReducer(s, { type: 'close', id: 1 });
    expect(s).toBe(IDLE);
    expect(promptReducer(IDLE, { type: 'open', id: 1, spec: { kind: 'confirm', message: 'late' } })).toBe(IDLE);
  });

  it('edits one line', () => {
    let t = initialTextInput('code:42');
    t = textInputReducer(t, { type: 'insert', text: '9' });
    t = textInputReducer(t, { type: 'home' });
    t = textInputReducer(t, { type: 'insert', text: '!' });
    expect(t).toEqual({ value: '!code:429', cursor: 1 });
    t = textInputReducer(t, { type: 'end' });
    t = textInputReducer(t, { type: 'insert', text: ' tag:x' });
    t = textInputReducer(t, { type: 'delete-word' });
    expect(t.value).toBe('!code:429 ');
    t = textInputReducer(t, { type: 'backspace' });
    t = textInputReducer(t, { type: 'insert', text: 'a\nb' });
    expect(t.value).toBe('!code:429a b');
    t = textInputReducer(t, { type: 'clear' });
    expect(t).toEqual({ value: '', cursor: 0 });
  });

  it('filters pick options by every word, and cycles tag choices', () => {
    const options = [
      { label: 'ana.lima@acme.example', value: 'ana', hint: 'Ana Lima' },
      { label: 'ben.okafor@acme.example', value: 'ben', hint: 'Ben Okafor' },
    ];
    expect(filterOptions(options, 'ben oka').map((o) => o.value)).toEqual(['ben']);
    expect(filterOptions(options, '')).toHaveLength(2);
    expect(nextTagChoice('keep')).toBe('add');
    expect(nextTagChoice('add')).toBe('remove');
    expect(nextTagChoice('remove')).toBe('keep');
    expect(tagAnswer(new Map([['A', 'add'], ['B', 'remove'], ['C', 'keep']]))).toEqual({ add: ['A'], remove: ['B'] });
  });
});

// ---- the errors window, against an in-memory list that answers its fetches -----------------------

function rows(n: number): ErrorRow[] {
  // Newest first: row id n … 1.
  return Array.from({ length: n }, (_, i) => {
    const id = n - i;
    return { errorId: encodeId('error', id, 1_700_000_000_000 + id * 1000), occurredAt: '', source: 'application', code: '422', message: `m${id}` };
  });
}

/** Answers a fetch the way the backend pages a newest-first list (with ascending paging). */
function answer(list: ErrorRow[], fetch: Fetch): FetchResult {
  const desc = (before: string | undefined, limit: number) => {
    const from = before ? list.findIndex((r) => rowIdOf(r.errorId) < rowIdOf(before)) : 0;
    const start = from < 0 ? list.length : from;
    return { rows: list.slice(start, start + limit), more: start + limit < list.length };
  };
  const asc = (after: string | undefined, limit: number) => {
    const up = [...list].reverse();
    const from = after ? up.findIndex((r) => rowIdOf(r.errorId) > rowIdOf(after)) : 0;
    const start = from < 0 ? up.length : from;
    return { rows: up.slice(start, start + limit).reverse(), more: start + limit < up.length };
  };
  switch (fetch.kind) {
    case 'first':
      return desc(undefined, fetch.limit);
    case 'older':
      return desc(fetch.before, fetch.limit);
    case 'above':
    case 'visible':
      return desc(fetch.before, fetch.limit);
    case 'newer':
      return asc(fetch.after, fetch.limit);
    case 'last':
      return asc(undefined, fetch.limit);
    case 'reload':
      return fetch.from.side === 'top' ? desc(fetch.from.before, fetch.limit) : asc(fetch.from.after, fetch.limit);
  }
}

/** Runs every pending fetch until the window asks for none. */
function settle(s: ErrorWindow, list: ErrorRow[]): ErrorWindow {
  for (let i = 0; i < 50 && s.pending; i++) {
    const p = s.pending;
    s = windowReducer(s, { type: 'loaded', seq: p.seq, generation: p.generation, result: answer(list, p.fetch) });
  }
  return s;
}

describe('errors window', () => {
  const list = rows(5000);
  const cursorId = (s: ErrorWindow) => rowIdOf(s.rows[s.cursor]!.errorId);

  it('asks for the first page only, and for the next page as the cursor nears its end', () => {
    let s = initialWindow(20);
    expect(s.pending?.fetch).toEqual({ kind: 'first', limit: PAGE });
    s = settle(s, list);
    expect(s.rows).toHaveLength(PAGE);
    expect(visibleRows(s)).toHaveLength(20);
    expect(s.pending).toBeUndefined();
    s = windowReducer(s, { type: 'move', delta: PAGE - 30 });
    expect(s.pending).toBeUndefined();
    s = windowReducer(s, { type: 'move', delta: 10 });
    expect(s.pending?.fetch).toMatchObject({ kind: 'older', before: list[PAGE - 1]!.errorId });
    s = settle(s, list);
    expect(s.rows).toHaveLength(2 * PAGE);
    expect(position(s).row).toBe(PAGE - 19);
  });

  it('holds a bounded segment however far it scrolls, and comes back up through the trimmed pages', () => {
    let s = settle(initialWindow(20), list);
    for (let i = 0; i < 150; i++) s = settle(windowReducer(s, { type: 'page', direction: 1 }), list);
    expect(s.rows.length).toBeLessThanOrEqual(MAX_ROWS + PAGE);
    expect(s.atTop).toBe(false);
    const at = position(s).row!;
    expect(cursorId(s)).toBe(5000 - at + 1);
    for (let i = 0; i < 150; i++) s = settle(windowReducer(s, { type: 'page', direction: -1 }), list);
    expect(s.cursor).toBe(0);
    expect(s.atTop).toBe(true);
    expect(cursorId(s)).toBe(5000);
    // Every row passed on the way is the list's own, in order, without gaps or repeats.
    const ids = s.rows.map((r) => rowIdOf(r.errorId));
    expect(ids).toEqual(ids.map((_, i) => 5000 - i));
  });

  it('jumps to the end with one ascending page, and grows upward from there', () => {
    let s = settle(initialWindow(20), list);
    s = settle(windowReducer(s, { type: 'bottom' }), list);
    expect(cursorId(s)).toBe(1);
    expect(s.atBottom).toBe(true);
    expect(position(s)).toEqual({ fromEnd: 1 });
    expect(position(s, 5000)).toEqual({ row: 5000 });
    s = settle(windowReducer(s, { type: 'move', delta: -(PAGE - 5) }), list);
    expect(s.pending).toBeUndefined();
    expect(s.rows.length).toBeGreaterThan(PAGE);
    expect(cursorId(s)).toBe(PAGE - 4);
    const ids = s.rows.map((r) => rowIdOf(r.errorId));
    expect(ids).toEqual(ids.map((_, i) => ids[0]! - i));
    s = settle(windowReducer(s, { type: 'top' }), list);
    expect(cursorId(s)).toBe(5000);
  });

  it('reloads in place: the cursor stays on its error, or on the next older one when it is gone', () => {
    let s = settle(initialWindow(20), list);
    s = windowReducer(s, { type: 'move', delta: 10 });
    const before = cursorId(s);
    const without = list.filter((r) => rowIdOf(r.errorId) !== before);
    s = settle(windowReducer(s, { type: 'reload' }), without);
    expect(cursorId(s)).toBe(before - 1);
    expect(s.cursor).toBe(10);
    s = windowReducer(s, { type: 'remove', errorIds: [s.rows[3]!.errorId, s.rows[10]!.errorId] });
    expect(s.cursor).toBe(9);
    expect(cursorId(s)).toBe(before - 2);
  });

  it('a timed refresh reads only the rows on screen, and keeps the cursor on its error', () => {
    let s = settle(initialWindow(20), list);
    s = windowReducer(s, { type: 'page', direction: 1 });
    s = windowReducer(s, { type: 'move', delta: 3 });
    const before = cursorId(s);
    const at = position(s).row;
    // A row on screen went (resolved elsewhere); a new error arrived at the top, above the screen.
    const gone = rowIdOf(s.rows[s.offset + 1]!.errorId);
    const changed = [{ ...list[0]!, errorId: rows(5001)[0]!.errorId }, ...list.filter((r) => rowIdOf(r.errorId) !== gone)];
    s = windowReducer(s, { type: 'refresh' });
    expect(s.pending?.fetch).toEqual({ kind: 'visible', before: s.rows[s.offset - 1]!.errorId, from: s.offset, limit: 20 });
    s = settle(s, changed);
    expect(cursorId(s)).toBe(before);
    // One row above it on screen went; the new top error is not read (it is not on screen).
    expect(position(s).row).toBe(at! - 1);
    const ids = s.rows.map((r) => rowIdOf(r.errorId));
    expect(ids).not.toContain(gone);
    // Still the list's rows in order, no gap where the fresh ones meet those held below.
    expect(ids).toEqual(changed.map((r) => rowIdOf(r.errorId)).filter((id) => id <= ids[0]! && id >= ids[ids.length - 1]!));
  });

  it('a timed refresh after a failed read reads again, and the window comes back on its error', () => {
    let s = settle(initialWindow(20), list);
    s = windowReducer(s, { type: 'move', delta: 7 });
    const before = cursorId(s);
    s = windowReducer(s, { type: 'reload' });
    s = windowReducer(s, { type: 'failed', seq: s.pending!.seq, generation: s.generation, message: 'cannot reach http://127.0.0.1:7700: connection refused' });
    expect(s.error).toMatch(/cannot reach/);
    s = windowReducer(s, { type: 'refresh' });
    expect(s.error).toBeUndefined();
    expect(s.pending?.fetch.kind).toBe('reload');
    s = settle(s, list);
    expect(cursorId(s)).toBe(before);
    // A first page that failed is asked for again too.
    let fresh = initialWindow(20);
    fresh = windowReducer(fresh, { type: 'failed', seq: fresh.pending!.seq, generation: fresh.generation, message: 'connection refused' });
    fresh = settle(windowReducer(fresh, { type: 'refresh' }), list);
    expect(fresh.error).toBeUndefined();
    expect(fresh.rows).toHaveLength(PAGE);
  });

  it('a burst of moves past the held rows is done when the next page arrives', () => {
    let s = settle(initialWindow(20), list);
    for (let i = 0; i < PAGE + 50; i++) s = windowReducer(s, { type: 'move', delta: 1 });
    expect(s.cursor).toBe(PAGE - 1);
    s = settle(s, list);
    expect(position(s).row).toBe(PAGE + 51);
    expect(s.owed).toBeUndefined();
  });

  it('moves made while a jump is on its way are done from where it lands (G k k, g j j)', () => {
    let s = settle(initialWindow(20), list);
    s = windowReducer(s, { type: 'move', delta: 30 });
    s = windowReducer(s, { type: 'bottom' });
    expect(s.pending?.fetch.kind).toBe('last');
    for (let i = 0; i < 4; i++) s = windowReducer(s, { type: 'move', delta: -1 });
    s = settle(s, list);
    expect(cursorId(s)).toBe(5);
    s = windowReducer(s, { type: 'top' });
    expect(s.pending?.fetch.kind).toBe('first');
    s = windowReducer(s, { type: 'move', delta: 1 });
    s = windowReducer(s, { type: 'move', delta: 1 });
    s = settle(s, list);
    expect(cursorId(s)).toBe(4998);
    expect(s.owed).toBeUndefined();
  });

  it('drops answers to questions no longer asked', () => {
    let s = initialWindow(20);
    const stale = s.pending!;
    s = windowReducer(s, { type: 'reset' });
    s = windowReducer(s, { type: 'loaded', seq: stale.seq, generation: stale.generation, result: { rows: list.slice(0, 3), more: true } });
    expect(s.rows).toHaveLength(0);
    expect(s.pending).toBeDefined();
    s = windowReducer(s, { type: 'failed', seq: s.pending!.seq, generation: s.generation, message: 'store busy' });
    expect(s.error).toBe('store busy');
    expect(s.pending).toBeUndefined();
    // No automatic retry after a failure; the next key asks again.
    expect(windowReducer(s, { type: 'move', delta: 1 }).pending?.fetch.kind).toBe('first');
  });
});
