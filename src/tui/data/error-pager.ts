import type { FlowStepErrorsResponse, FlowStepResolvedResponse } from '../../domain/api.js';
import type { AscendingListParams, TuiBackend } from '../backend.js';
import { MAX_FETCH, MAX_ROWS, rowIdOf, trimTop, type ErrorRow, type Fetch, type FetchResult, type Segment } from '../state/error-window.js';

// Runs the errors window's fetches against the backend: one listErrors (or listResolved) call per
// fetch, for the window only. Ascending paging (`order: 'asc'`, `after`) is used when the backend
// has it — detected once, from the order of what an ascending request returns; without it, the
// jump to the end walks the list with the largest pages (reporting progress, cancelable).

export interface ErrorSource {
  flowId: string;
  stepId: string;
  tab: 'open' | 'resolved';
  query: string;
}

export class FetchCanceled extends Error {
  constructor() {
    super('canceled');
  }
}

export class ErrorPager {
  /** Whether the backend pages upward; undefined until a jump to the end found out. */
  ascending: boolean | undefined;
  private early: { limit: number; promise: Promise<FetchResult> } | undefined;

  constructor(
    private readonly backend: TuiBackend,
    private readonly source: ErrorSource,
  ) {}

  private async list(params: AscendingListParams): Promise<{ rows: ErrorRow[]; more: boolean }> {
    const { flowId, stepId, tab, query } = this.source;
    const full: AscendingListParams = { ...params, ...(query.trim() ? { query } : {}) };
    if (tab === 'resolved') {
      const r: FlowStepResolvedResponse = await this.backend.triage.listResolved(flowId, stepId, full);
      return { rows: r.resolved, more: r.nextPageURL !== undefined };
    }
    const r: FlowStepErrorsResponse = await this.backend.listErrors(flowId, stepId, full);
    return { rows: r.errors, more: r.nextPageURL !== undefined };
  }

  private async ascendingPage(params: { after?: string; limit: number }): Promise<{ rows: ErrorRow[]; more: boolean }> {
    const r = await this.list({ order: 'asc', ...(params.after ? { after: params.after } : {}), limit: params.limit });
    return { rows: [...r.rows].reverse(), more: r.more };
  }

  /**
   * A first page already asked for (a filter being applied, see ErrorsView) that the window is about
   * to ask for too: its `first` fetch of that size gets this answer instead of asking again.
   */
  adoptFirst(limit: number, answer: Promise<FetchResult>): void {
    this.early = { limit, promise: answer };
  }

  /** Runs one fetch; `isCurrent` says whether anyone still wants the answer (a long walk checks it). */
  async run(fetch: Fetch, isCurrent: () => boolean = () => true, onWalk?: (walked: number) => void): Promise<FetchResult> {
    switch (fetch.kind) {
      case 'first': {
        const early = this.early;
        this.early = undefined;
        if (early && early.limit === fetch.limit) return early.promise;
        return this.list({ limit: fetch.limit });
      }
      case 'older':
        return this.list({ before: fetch.before, limit: fetch.limit });
      case 'visible':
      case 'above':
        return this.list({ ...(fetch.before ? { before: fetch.before } : {}), limit: fetch.limit });
      case 'newer':
        this.requireAscending();
        return this.ascendingPage({ after: fetch.after, limit: fetch.limit });
      case 'reload':
        if (fetch.from.side === 'top') return this.list({ ...(fetch.from.before ? { before: fetch.from.before } : {}), limit: fetch.limit });
        this.requireAscending();
        return this.ascendingPage({ ...(fetch.from.after ? { after: fetch.from.after } : {}), limit: fetch.limit });
      case 'last':
        return this.last(fetch.limit, isCurrent, onWalk);
    }
  }

  private requireAscending(): void {
    if (this.ascending === false) throw new Error('this backend cannot page upward');
  }

  private async last(limit: number, isCurrent: () => boolean, onWalk?: (walked: number) => void): Promise<FetchResult> {
    if (this.ascending === true) return this.ascendingPage({ limit });
    // One ascending request answers both questions: does the backend page upward, and if so, here
    // is the oldest page. A backend that ignores `order` returns newest first.
    const probe = await this.list({ order: 'asc', limit });
    if (probe.rows.length >= 2) {
      const [a, b] = probe.rows;
      this.ascending = rowIdOf(a!.errorId) < rowIdOf(b!.errorId);
      if (this.ascending) return { rows: [...probe.rows].reverse(), more: probe.more };
    }
    // Fewer than two rows, or no ascending paging but the whole list fits: it is its own last page.
    if (!probe.more) return { rows: probe.rows, more: false };
    return this.walk(isCurrent, onWalk);
  }

  /** Without ascending paging: page down the whole list, keeping only the last rows and the cursors to come back up. */
  private async walk(isCurrent: () => boolean, onWalk?: (walked: number) => void): Promise<FetchResult> {
    let seg: Segment = { rows: [], atTop: true, atBottom: false, above: 0, anchors: [], topCursor: undefined, bottomCursor: null };
    let walked = 0;
    let before: string | undefined;
    for (;;) {
      if (!isCurrent()) throw new FetchCanceled();
      const page = await this.list({ ...(before ? { before } : {}), limit: MAX_FETCH });
      seg = { ...seg, rows: [...seg.rows, ...page.rows] };
      walked += page.rows.length;
      while (seg.rows.length > MAX_ROWS) seg = trimTop(seg);
      onWalk?.(walked);
      const last = page.rows[page.rows.length - 1];
      if (!page.more || !last) break;
      before = last.errorId;
      // Let key presses (esc) and frames through between pages.
      await new Promise((resolve) => setImmediate(resolve));
    }
    seg = { ...seg, atBottom: true };
    return { rows: seg.rows, more: false, segment: seg };
  }
}
