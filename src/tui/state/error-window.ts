import type { ResolvedFlowStepError } from '../../domain/api.js';
import { decodeId } from '../../domain/ids.js';

// The errors table as a window over a backend query: the rows held are one contiguous segment of
// the (newest-first) list, a few pages around the cursor, never the whole list. Moving near either
// end of the segment asks for the next page on that side (keyset cursors: `before` the last row, or
// `after` the first); the far side is trimmed so memory stays bounded however far one scrolls. The
// reducer is pure: it decides WHAT to fetch (`pending`); an effect runs the fetch and reports back.
//
// Going up past rows trimmed earlier re-reads them from the cursor they were first read from (kept
// on a stack), so scrolling works with newest-first paging alone. Jumping to the end (G) reads the
// oldest page with ascending paging; a segment reached that way grows upward with `after` cursors.

export type ErrorRow = ResolvedFlowStepError;

/** Rows per fetch when scrolling. */
export const PAGE = 200;
/** Rows held at most; beyond that, TRIM rows are dropped on the side away from the cursor. */
export const MAX_ROWS = 1000;
export const TRIM = PAGE;
/** The backend's largest page. */
export const MAX_FETCH = 1000;

export type Fetch =
  /** The newest rows. */
  | { kind: 'first'; limit: number }
  /** The oldest rows (ascending paging; a backend without it is walked). */
  | { kind: 'last'; limit: number }
  /** Rows older than `before`, appended below. */
  | { kind: 'older'; before: string; limit: number }
  /** A trimmed chunk above rows[0], re-read from its cursor (undefined: the top). */
  | { kind: 'above'; before: string | undefined; newerThan: string; limit: number }
  /** Rows newer than `after` (ascending paging), prepended above. */
  | { kind: 'newer'; after: string; limit: number }
  /** The segment again from its anchor, keeping the cursor on the same error. */
  | { kind: 'reload'; from: { side: 'top'; before: string | undefined } | { side: 'bottom'; after: string | undefined }; limit: number }
  /** The rows on screen again (a timed refresh): `limit` rows older than `before`, from index `from`. */
  | { kind: 'visible'; before: string | undefined; from: number; limit: number };

export interface PendingFetch {
  seq: number;
  generation: number;
  fetch: Fetch;
  /** Where the cursor goes when the rows arrive. */
  then?: { cursorTo: 'first' | 'last' } | { keepId: string; screenRow: number };
}

/** What a fetch returns, rows newest first; `more`: rows exist beyond them in the fetch's direction. */
export interface FetchResult {
  rows: ErrorRow[];
  more: boolean;
  /** A walk to the end (backends without ascending paging) returns a whole new segment. */
  segment?: Segment;
}

export interface Segment {
  rows: ErrorRow[];
  atTop: boolean;
  atBottom: boolean;
  above: number | undefined;
  /** Rows known to lie below the held ones (0 at the bottom; undefined: unknown). Kept when rows
   * are trimmed off the bottom, so a window reached from the end still knows where it is. */
  below?: number | undefined;
  /** `before` cursors of chunks trimmed above rows[0], nearest last (undefined: the top). */
  anchors: Array<string | undefined>;
  /** The `before` cursor rows[0] was read from (undefined: the top; null: read upward, see bottomCursor). */
  topCursor: string | undefined | null;
  /** The `after` cursor the last row was read from (undefined: the bottom; null: read downward). */
  bottomCursor: string | undefined | null;
}

export interface ErrorWindow extends Segment {
  /** The filter (query language) the rows match; '' for all. */
  query: string;
  generation: number;
  seq: number;
  cursor: number;
  offset: number;
  height: number;
  /** The first page has arrived (an empty list is loaded too). */
  loaded: boolean;
  pending?: PendingFetch;
  /** The last fetch failed: no further fetch until the operator acts. */
  error?: string;
  /** A walk to the end in progress: rows passed so far. */
  walking?: number;
  /**
   * Moves past the held rows while the next page is on its way (a burst of j): done when it
   * arrives, so 250 j's move 250 rows however fast they came. Positive: down.
   */
  owed?: number;
}

export type WindowAction =
  | { type: 'move'; delta: number }
  | { type: 'page'; direction: 1 | -1 }
  | { type: 'top' }
  | { type: 'bottom' }
  | { type: 'resize'; height: number }
  /** A new query (filter or tab): everything held is dropped. */
  | { type: 'reset'; query?: string }
  /** A new filter whose first page is already in hand: swapped in at once, with no loading frame. */
  | { type: 'replace'; query: string; result: FetchResult }
  /** Read the held segment again (after a change), keeping the cursor where it was. */
  | { type: 'reload' }
  /** Read only the rows on screen again (a timed refresh: cheap, whatever the list's size). */
  | { type: 'refresh' }
  /** Rows known gone (resolved, reopened, deleted): dropped at once, before the reload confirms. */
  | { type: 'remove'; errorIds: readonly string[] }
  | { type: 'loaded'; seq: number; generation: number; result: FetchResult }
  | { type: 'failed'; seq: number; generation: number; message: string }
  | { type: 'walk-progress'; seq: number; walked: number }
  /** Stop the fetch in flight (a long walk to the end), keeping the rows held. */
  | { type: 'cancel' };

export function initialWindow(height: number, query = ''): ErrorWindow {
  return plan({
    query,
    rows: [],
    atTop: true,
    atBottom: false,
    above: 0,
    anchors: [],
    topCursor: undefined,
    bottomCursor: null,
    generation: 0,
    seq: 0,
    cursor: 0,
    offset: 0,
    height: Math.max(1, height),
    loaded: false,
  });
}

export function rowIdOf(errorId: string): number {
  return decodeId('error', errorId)?.rowId ?? 0;
}

function place(s: ErrorWindow, cursor: number, screenRow?: number): ErrorWindow {
  const n = s.rows.length;
  const c = n === 0 ? 0 : Math.min(Math.max(0, cursor), n - 1);
  let offset = screenRow === undefined ? s.offset : c - screenRow;
  offset = Math.min(Math.max(0, offset), Math.max(0, n - s.height));
  if (c < offset) offset = c;
  if (c >= offset + s.height) offset = c - s.height + 1;
  return { ...s, cursor: c, offset: Math.max(0, offset) };
}

function request(s: ErrorWindow, fetch: Fetch, then?: PendingFetch['then']): ErrorWindow {
  const seq = s.seq + 1;
  return { ...s, seq, pending: { seq, generation: s.generation, fetch, ...(then ? { then } : {}) } };
}

/** Decides the next fetch: the first page, or the next page on the side the cursor is close to. */
export function plan(s: ErrorWindow): ErrorWindow {
  if (s.pending || s.error !== undefined) return s;
  if (!s.loaded) return request(s, { kind: 'first', limit: PAGE });
  const margin = s.height + 1;
  const last = s.rows[s.rows.length - 1];
  const first = s.rows[0];
  if (last && !s.atBottom && s.cursor >= s.rows.length - 1 - margin) {
    return request(s, { kind: 'older', before: last.errorId, limit: PAGE });
  }
  if (first && !s.atTop && s.cursor <= margin) {
    if (s.anchors.length > 0) {
      return request(s, { kind: 'above', before: s.anchors[s.anchors.length - 1], newerThan: first.errorId, limit: MAX_FETCH });
    }
    return request(s, { kind: 'newer', after: first.errorId, limit: PAGE });
  }
  return s;
}

/** Drops TRIM rows from the top (the cursor is far below): their cursor goes on the anchor stack. */
export function trimTop(seg: Segment, count = TRIM): Segment {
  const t = Math.min(count, seg.rows.length);
  if (t === 0) return seg;
  const anchors = seg.topCursor === null ? [] : [...seg.anchors, seg.topCursor];
  return {
    ...seg,
    rows: seg.rows.slice(t),
    atTop: false,
    above: seg.above === undefined ? undefined : seg.above + t,
    anchors,
    topCursor: seg.topCursor === null ? null : seg.rows[t - 1]!.errorId,
  };
}

/** Drops rows from the bottom (the cursor is far above). */
export function trimBottom(seg: Segment, count = TRIM): Segment {
  const t = Math.min(count, seg.rows.length);
  if (t === 0) return seg;
  const keep = seg.rows.length - t;
  const below = seg.atBottom ? 0 : seg.below;
  return {
    ...seg,
    rows: seg.rows.slice(0, keep),
    atBottom: false,
    below: below === undefined ? undefined : below + t,
    bottomCursor: seg.bottomCursor === null ? null : seg.rows[keep]!.errorId,
  };
}

function segmentOf(s: ErrorWindow): Segment {
  const { rows, atTop, atBottom, above, below, anchors, topCursor, bottomCursor } = s;
  return { rows, atTop, atBottom, above, below, anchors, topCursor, bottomCursor };
}

function withSegment(s: ErrorWindow, seg: Segment, cursor: number, screenRow?: number): ErrorWindow {
  return place({ ...s, ...seg }, cursor, screenRow);
}

function indexAfterReload(rows: readonly ErrorRow[], keepId: string): number {
  const exact = rows.findIndex((r) => r.errorId === keepId);
  if (exact >= 0) return exact;
  // Gone: the cursor stays at the same place in the list, on the next older row.
  const id = rowIdOf(keepId);
  const next = rows.findIndex((r) => rowIdOf(r.errorId) < id);
  return next >= 0 ? next : rows.length - 1;
}

function applyLoaded(s: ErrorWindow, pending: PendingFetch, result: FetchResult): ErrorWindow {
  const { fetch, then } = pending;
  let seg = segmentOf(s);
  let cursor = s.cursor;
  let screenRow: number | undefined;
  switch (fetch.kind) {
    case 'first':
      seg = { rows: result.rows, atTop: true, atBottom: !result.more, above: 0, anchors: [], topCursor: undefined, bottomCursor: null };
      cursor = 0;
      screenRow = 0;
      break;
    case 'last': {
      if (result.segment) {
        seg = result.segment;
      } else {
        seg = { rows: result.rows, atTop: !result.more, atBottom: true, above: result.more ? undefined : 0, anchors: [], topCursor: result.more ? null : undefined, bottomCursor: undefined };
      }
      cursor = seg.rows.length - 1;
      screenRow = s.height - 1;
      break;
    }
    case 'older': {
      const lastId = rowIdOf(seg.rows[seg.rows.length - 1]?.errorId ?? '');
      const fresh = result.rows.filter((r) => lastId === 0 || rowIdOf(r.errorId) < lastId);
      seg = { ...seg, rows: [...seg.rows, ...fresh], atBottom: !result.more, below: seg.below === undefined ? undefined : Math.max(0, seg.below - fresh.length) };
      while (seg.rows.length > MAX_ROWS && cursor - TRIM > s.height) {
        seg = trimTop(seg);
        cursor -= TRIM;
      }
      break;
    }
    case 'above': {
      const firstId = rowIdOf(fetch.newerThan);
      const fresh = result.rows.filter((r) => rowIdOf(r.errorId) > firstId);
      const anchors = seg.anchors.slice(0, -1);
      const reachedFirst = fresh.length < result.rows.length || !result.more;
      if (!reachedFirst) {
        // Rows came back between the chunk and the segment (reopened since): start over from the chunk.
        seg = { rows: fresh, atTop: fetch.before === undefined, atBottom: false, above: seg.above, anchors, topCursor: fetch.before, bottomCursor: null };
        cursor = fresh.length - 1;
        break;
      }
      const above = seg.above === undefined ? undefined : Math.max(0, seg.above - fresh.length);
      seg = { ...seg, rows: [...fresh, ...seg.rows], anchors, topCursor: fetch.before, atTop: fetch.before === undefined, above: fetch.before === undefined ? 0 : above };
      cursor += fresh.length;
      while (seg.rows.length > MAX_ROWS && seg.rows.length - 1 - cursor > s.height + TRIM) seg = trimBottom(seg);
      break;
    }
    case 'newer': {
      const firstId = rowIdOf(fetch.after);
      const fresh = result.rows.filter((r) => rowIdOf(r.errorId) > firstId);
      const atTop = !result.more;
      const above = atTop ? 0 : seg.above === undefined ? undefined : Math.max(0, seg.above - fresh.length);
      seg = { ...seg, rows: [...fresh, ...seg.rows], atTop, above, topCursor: atTop ? undefined : null };
      cursor += fresh.length;
      while (seg.rows.length > MAX_ROWS && seg.rows.length - 1 - cursor > s.height + TRIM) seg = trimBottom(seg);
      break;
    }
    case 'reload': {
      if (fetch.from.side === 'top') {
        const before = fetch.from.before;
        seg = { ...seg, rows: result.rows, atTop: before === undefined, atBottom: !result.more, above: before === undefined ? 0 : seg.above, topCursor: before, bottomCursor: null };
      } else {
        const after = fetch.from.after;
        seg = { ...seg, rows: result.rows, atBottom: after === undefined, atTop: !result.more, above: result.more ? seg.above : 0, topCursor: result.more ? null : undefined, bottomCursor: after, anchors: [] };
      }
      break;
    }
    case 'visible': {
      // The rows above the screen stay; the fresh ones replace those on screen; rows held below
      // continue after the last fresh one (older), or go when the list now ends on screen.
      const head = seg.rows.slice(0, fetch.from);
      const last = result.rows[result.rows.length - 1];
      const minId = last ? rowIdOf(last.errorId) : Number.POSITIVE_INFINITY;
      const tail = result.more ? seg.rows.slice(fetch.from).filter((r) => rowIdOf(r.errorId) < minId) : [];
      seg = { ...seg, rows: [...head, ...result.rows, ...tail], ...(result.more ? {} : { atBottom: true, below: 0, bottomCursor: null }) };
      break;
    }
  }
  if (then && 'cursorTo' in then) {
    cursor = then.cursorTo === 'first' ? 0 : seg.rows.length - 1;
    screenRow = then.cursorTo === 'first' ? 0 : s.height - 1;
  } else if (then && 'keepId' in then) {
    cursor = indexAfterReload(seg.rows, then.keepId);
    screenRow = then.screenRow;
  }
  return withSegment(s, seg, cursor, screenRow);
}

/** How far `want` lies past the held rows on a side with more to come (0: within them, or at an end). */
function owedBeyond(s: ErrorWindow, want: number): number | undefined {
  const n = s.rows.length;
  if (n === 0) return undefined;
  if (want > n - 1 && !s.atBottom) return want - (n - 1);
  if (want < 0 && !s.atTop) return want;
  return undefined;
}

/** A fetch that puts the cursor somewhere new (the first page, the last) is under way. */
function jumping(s: ErrorWindow): boolean {
  return s.pending !== undefined && (s.pending.fetch.kind === 'first' || s.pending.fetch.kind === 'last');
}

export function windowReducer(s: ErrorWindow, action: WindowAction): ErrorWindow {
  switch (action.type) {
    case 'move': {
      // While a jump (G, g, the first page) is on its way, the rows held are not where the cursor
      // is going: the move is owed from where the jump lands, so `G k k` ends two rows above the end.
      if (jumping(s)) return { ...s, owed: (s.owed ?? 0) + action.delta };
      const want = s.cursor + (s.owed ?? 0) + action.delta;
      return plan({ ...place(s, want), error: undefined, owed: owedBeyond(s, want) } as ErrorWindow);
    }
    case 'page': {
      const step = Math.max(1, s.height - 1) * action.direction;
      const moved = place({ ...s, offset: s.offset + step }, s.cursor + step);
      return plan({ ...moved, error: undefined } as ErrorWindow);
    }
    case 'top':
      s = { ...s, owed: undefined };
      if (s.atTop) return plan(place({ ...s, error: undefined } as ErrorWindow, 0, 0));
      return request({ ...s, error: undefined, pending: undefined } as ErrorWindow, { kind: 'first', limit: PAGE });
    case 'bottom':
      s = { ...s, owed: undefined };
      if (s.atBottom) return plan(place({ ...s, error: undefined } as ErrorWindow, s.rows.length - 1, s.height - 1));
      return request({ ...s, error: undefined, pending: undefined } as ErrorWindow, { kind: 'last', limit: PAGE });
    case 'resize':
      return action.height === s.height ? s : plan(place({ ...s, height: Math.max(1, action.height) }, s.cursor));
    case 'reset': {
      const fresh = initialWindow(s.height, action.query ?? s.query);
      return plan({ ...fresh, generation: s.generation + 1, seq: s.seq, pending: undefined });
    }
    case 'replace': {
      const fresh: ErrorWindow = { ...initialWindow(s.height, action.query), generation: s.generation + 1, seq: s.seq + 1, pending: undefined, loaded: true };
      const first: PendingFetch = { seq: fresh.seq, generation: fresh.generation, fetch: { kind: 'first', limit: PAGE } };
      return plan(applyLoaded(fresh, first, action.result));
    }
    case 'reload': {
      if (!s.loaded) return plan({ ...s, error: undefined } as ErrorWindow);
      const keep = s.rows[s.cursor];
      const then = keep ? { keepId: keep.errorId, screenRow: s.cursor - s.offset } : undefined;
      const limit = Math.min(MAX_FETCH, Math.max(PAGE, s.rows.length));
      const from = s.topCursor !== null ? ({ side: 'top', before: s.topCursor } as const) : ({ side: 'bottom', after: s.bottomCursor ?? undefined } as const);
      return request({ ...s, error: undefined, pending: undefined } as ErrorWindow, { kind: 'reload', from, limit }, then);
    }
    case 'refresh': {
      // A failed read (the server gone, restarting) is tried again on the timer, as the views
      // around it are: the window comes back by itself once the backend answers, no ctrl-r needed.
      if (s.error !== undefined && !s.pending) return windowReducer(s, { type: 'reload' });
      if (!s.loaded || s.pending || s.walking !== undefined || s.error !== undefined) return s;
      const before = s.offset > 0 ? s.rows[s.offset - 1]?.errorId : s.topCursor;
      // A segment read upward from the end has no cursor to re-read its top from: a reload does it.
      if (before === null) return s;
      const keep = s.rows[s.cursor];
      const then = keep ? { keepId: keep.errorId, screenRow: s.cursor - s.offset } : undefined;
      return request(s, { kind: 'visible', before, from: s.offset, limit: s.height }, then);
    }
    case 'remove': {
      const gone = new Set(action.errorIds);
      if (!s.rows.some((r) => gone.has(r.errorId))) return s;
      const removedAbove = s.rows.slice(0, s.cursor).filter((r) => gone.has(r.errorId)).length;
      const rows = s.rows.filter((r) => !gone.has(r.errorId));
      return plan(place({ ...s, rows }, s.cursor - removedAbove));
    }
    case 'loaded': {
      const pending = s.pending;
      if (!pending || pending.seq !== action.seq || action.generation !== s.generation) return s;
      const next = applyLoaded({ ...s, pending: undefined, walking: undefined, loaded: true, owed: undefined }, pending, action.result);
      if (!s.owed) return plan(next);
      const want = next.cursor + s.owed;
      return plan({ ...place(next, want), owed: owedBeyond(next, want) } as ErrorWindow);
    }
    case 'failed': {
      if (!s.pending || s.pending.seq !== action.seq || action.generation !== s.generation) return s;
      return { ...s, pending: undefined, walking: undefined, error: action.message };
    }
    case 'walk-progress':
      return s.pending?.seq === action.seq ? { ...s, walking: action.walked } : s;
    case 'cancel':
      return s.pending ? { ...s, pending: undefined, walking: undefined, loaded: true } : s;
  }
}

export function visibleRows(s: ErrorWindow): ErrorRow[] {
  return s.rows.slice(s.offset, s.offset + s.height);
}

export function cursorRow(s: ErrorWindow): ErrorRow | undefined {
  return s.rows[s.cursor];
}

/** The cursor's 1-based position in the whole list, when known. */
export function position(s: ErrorWindow, total?: number): { row?: number; fromEnd?: number } {
  if (s.rows.length === 0) return {};
  if (s.above !== undefined) return { row: s.above + s.cursor + 1 };
  const below = s.atBottom ? 0 : s.below;
  if (below !== undefined) {
    const fromEnd = below + s.rows.length - s.cursor;
    return total !== undefined ? { row: total - fromEnd + 1 } : { fromEnd };
  }
  return {};
}
