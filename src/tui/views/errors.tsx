import { Box, Text } from 'ink';
import { useEffect, useRef } from 'react';
import { parseQuery } from '../../domain/query.js';
import { CLASSIFICATIONS, ERROR_SOURCES } from '../../domain/filter-metadata.js';
import {
  assignErrors,
  editSnapshot,
  exportCsv,
  patchSnapshots,
  reopenErrors,
  resolveErrors,
  retryErrors,
  tagErrors,
  type ActionContext,
  type Target,
} from '../actions.js';
import { failureMessage } from '../backend.js';
import { Table, type TableRow } from '../components/table.js';
import { useNavKey, useUIActions, useUIState, type RetryWatch } from '../context.js';
import { ErrorPager, FetchCanceled } from '../data/error-pager.js';
import { age, formatCount, messageLine, shortTime, type ColumnSpec } from '../format.js';
import { cheapEnough, useAutoRefresh, useCommands, useDataRefresh, useLoad, useOnReturn, useSyncReducer, useSyncState } from '../hooks.js';
import type { Command } from '../keys.js';
import { cursorRow, initialWindow, PAGE, position, rowIdOf, visibleRows, windowReducer, type ErrorRow } from '../state/error-window.js';
import { describeMarks, hasMarks, isMarked, marksReducer, NO_MARKS, selectionOf } from '../state/marks.js';
import type { Route } from '../state/nav.js';

// The errors of a step: a virtualised table over listErrors (open) or listResolved (the Resolved
// tab), newest first, filtered with the query language, with marks and every triage action.

const OPEN_COLUMNS: ColumnSpec[] = [
  { header: ' ', width: 1, min: 1 },
  { header: 'TIME (UTC)', width: 14, min: 8 },
  { header: 'CODE', width: 12, min: 4 },
  { header: 'SOURCE', width: 11, min: 6, drop: 1 },
  { header: 'CLASS', width: 12, min: 6 },
  { header: 'MESSAGE', width: 30, flex: true, min: 24 },
  { header: 'TAGS', width: 16, min: 6, drop: 3 },
  { header: 'ASSIGNEE', width: 18, min: 8, drop: 4 },
  { header: 'RETRY AT', width: 9, min: 8, drop: 2 },
];

const RESOLVED_COLUMNS: ColumnSpec[] = [
  ...OPEN_COLUMNS.slice(0, 7),
  { header: 'RESOLVED', width: 9, min: 8, drop: 2 },
  { header: 'BY', width: 18, min: 8, drop: 4 },
];

export const MARKED = '●';
export const RETRYING = '↻';
/** A row with no retry data (a connection failure): r has no snapshot to re-feed for it. */
export const NO_RETRY_DATA = '∅';

type ErrorsRoute = Extract<Route, { view: 'errors' }>;

/** How long a new filter's first page may take before the table shows its loading state instead. */
const FILTER_WAIT_MS = 150;

function isRetrying(row: ErrorRow, watches: readonly RetryWatch[], filter: string): boolean {
  return watches.some((w) => (w.errorIds ? w.errorIds.has(row.errorId) : w.query === filter && rowIdOf(row.errorId) <= w.maxRowId));
}

/** Completions for the filter: field names, enum values, tag names, assignees. */
function filterSuggestions(tags: string[], users: string[]): string[] {
  const quote = (v: string) => (/\s/.test(v) ? `"${v}"` : v);
  return [
    'code:',
    'source:',
    'class:',
    'tag:',
    'assignee:',
    'trace:',
    'job:',
    'rdk:',
    'since:',
    'until:',
    'retryable:',
    'msg:',
    'sig:',
    'data.',
    ...CLASSIFICATIONS.map((c) => `class:${c}`),
    ...ERROR_SOURCES.map((s) => `source:${s}`),
    ...tags.map((t) => `tag:${quote(t)}`),
    'assignee:me',
    'assignee:none',
    ...users.map((u) => `assignee:${u}`),
    'retryable:yes',
    'retryable:no',
  ];
}

export function ErrorsView({ route }: { route: ErrorsRoute }) {
  const ui = useUIState();
  const actions = useUIActions();
  const { backend, theme, bodyHeight, columns, retryWatches, capabilities } = ui;
  const { flowId, stepId, stepName } = route;
  const [tab, setTab, tabRef] = useSyncState<'open' | 'resolved'>('open');
  const tableHeight = Math.max(1, bodyHeight - 2);
  // The filter lives in the window: a new filter and its rows arrive in one update (one frame).
  const [win, dispatch, winRef] = useSyncReducer(windowReducer, () => initialWindow(tableHeight, route.query ?? ''));
  const filter = win.query;
  const navKey = useNavKey();
  useEffect(() => actions.noteFilter(navKey, filter), [actions, navKey, filter]);
  const [marks, dispatchMarks, marksRef] = useSyncReducer(marksReducer, () => NO_MARKS);
  const ctx: ActionContext = { backend, ui: actions };

  // One pager per (tab, filter), kept for the last few: a filter's first page can be fetched before
  // the window switches to it (see applyFilter), and the window's own fetch then gets that answer.
  const pagers = useRef(new Map<string, ErrorPager>());
  const pagerFor = (forTab: 'open' | 'resolved', query: string): ErrorPager => {
    const key = `${forTab}\n${query}`;
    let p = pagers.current.get(key);
    if (!p) {
      p = new ErrorPager(backend, { flowId, stepId, tab: forTab, query });
      p.ascending = capabilities.ascending;
    }
    // Most recently used last, so the one evicted is never the one in use.
    pagers.current.delete(key);
    pagers.current.set(key, p);
    if (pagers.current.size > 4) pagers.current.delete(pagers.current.keys().next().value!);
    return p;
  };
  const pager = pagerFor(tab, filter);

  // Run the fetch the window asks for; a newer request (or leaving) makes the answer moot.
  useEffect(() => {
    const pending = win.pending;
    if (!pending) return;
    let live = true;
    pager
      .run(pending.fetch, () => live, (walked) => dispatch({ type: 'walk-progress', seq: pending.seq, walked }))
      .then(
        (result) => {
          if (pager.ascending !== undefined) capabilities.ascending = pager.ascending;
          dispatch({ type: 'loaded', seq: pending.seq, generation: pending.generation, result });
        },
        (e: unknown) => {
          if (!(e instanceof FetchCanceled)) dispatch({ type: 'failed', seq: pending.seq, generation: pending.generation, message: failureMessage(e) });
        },
      );
    return () => {
      live = false;
    };
  }, [win.pending, pager, capabilities]);

  if (winRef.current.height !== tableHeight) dispatch({ type: 'resize', height: tableHeight });

  // The step's open-error count (cheap, unfiltered): the table's total when nothing filters it.
  // The step's count (a count over every open error of the step) comes after the first page is drawn.
  const step = useLoad(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return (await backend.getFlow(flowId)).steps.find((s) => s._id === stepId);
  }, [flowId, stepId]);
  // A filtered list or the Resolved tab is counted apart (the step's count covers neither), after
  // its first page is drawn.
  const matching = useLoad(async () => {
    if (tab === 'open' && filter === '') return undefined;
    await new Promise((resolve) => setImmediate(resolve));
    const count = await backend.countErrors(flowId, stepId, { query: filter, resolved: tab === 'resolved' });
    return { tab, filter, count };
  }, [tab, filter, flowId, stepId]);
  const refresh = () => {
    dispatch({ type: 'reload' });
    step.reload();
    matching.reload();
  };
  useOnReturn(refresh);
  useDataRefresh(refresh);
  // Every couple of seconds: the rows on screen and the counts, read again (a count too slow to
  // repeat, on a big list, waits for ctrl-r or a change made here).
  useAutoRefresh(() => {
    dispatch({ type: 'refresh' });
    if (cheapEnough(step, ui.refreshMs)) step.reload();
    if (cheapEnough(matching, ui.refreshMs)) matching.reload();
  });

  const counted = matching.data && matching.data.tab === tab && matching.data.filter === filter ? matching.data.count : undefined;
  const total = tab === 'open' && filter === '' ? step.data?.numOpenError : win.atTop && win.atBottom ? win.rows.length : counted;
  const watches = tab === 'open' ? retryWatches.filter((w) => w.flowId === flowId && w.stepId === stepId) : [];

  const target = (): Target | undefined => {
    const selection = selectionOf(marksRef.current, cursorRow(winRef.current)?.errorId);
    if (!selection) {
      actions.info('No error here.');
      return undefined;
    }
    return { flowId, stepId, stepName, selection, tab: tabRef.current, ...(selection.errorIds ? { count: selection.errorIds.length } : {}) };
  };

  const afterGone = async (ids: string[] | undefined, t: Target) => {
    if (!ids) return;
    dispatchMarks({ type: 'clear' });
    if (t.selection.errorIds) return dispatch({ type: 'remove', errorIds: ids });
    // Every match went (mark-all): the place the cursor was at means nothing now; back to the top.
    const query = winRef.current.query;
    const first = await pagerFor(tabRef.current, query).run({ kind: 'first', limit: PAGE });
    if (winRef.current.query === query) dispatch({ type: 'replace', query, result: first });
  };

  /** Moves; shift-moves mark the rows left behind, a range mark also the row arrived at. */
  const move = (delta: number, mark: boolean) => {
    const w = winRef.current;
    const range = marksRef.current.range;
    if ((mark || range) && w.rows.length > 0) {
      const to = Math.min(Math.max(0, w.cursor + delta), w.rows.length - 1);
      const [a, b] = to >= w.cursor ? [w.cursor, range ? to : to - 1] : [range ? to : to + 1, w.cursor];
      const ids = w.rows.slice(a, b + 1).map((r) => r.errorId);
      if (mark && to === w.cursor && w.rows[to]) ids.push(w.rows[to].errorId);
      dispatchMarks({ type: 'add', errorIds: ids });
    }
    dispatch({ type: 'move', delta });
  };

  const run = (work: () => Promise<unknown>) => {
    void work().catch((e: unknown) => actions.fail(e));
  };

  /**
   * Switches to a filter: its first page is fetched first and swapped in with the filter, so the
   * table goes from the old rows to the new in one frame. A backend slow to answer gets the usual
   * loading state after FILTER_WAIT_MS (the window's fetch then takes over the one in flight).
   */
  const applyFilter = async (next: string) => {
    const nextPager = pagerFor(tabRef.current, next);
    const first = nextPager.run({ kind: 'first', limit: PAGE });
    // Whoever awaits it reports a failure; one nobody awaits any more (view left) is moot.
    first.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), FILTER_WAIT_MS)));
    const result = await Promise.race([first, slow]).finally(() => clearTimeout(timer));
    if (result) return dispatch({ type: 'replace', query: next, result });
    nextPager.adoptFirst(PAGE, first);
    dispatch({ type: 'reset', query: next });
  };

  const askFilter = () =>
    run(async () => {
      const before = winRef.current.query;
      const answer = await actions.ask(async () => {
        const [tags, users] = await Promise.all([backend.triage.listTags(), backend.triage.listUsers()]);
        return {
          kind: 'text' as const,
          label: '/',
          initial: winRef.current.query,
          hint: 'code:429 class:intermittent tag:Investigating assignee:none !source:connection data.customer.email:*@x',
          history: actions.filterHistory(),
          suggestions: filterSuggestions(
            tags.map((t) => t.tag),
            users.map((u) => u.email),
          ),
          validate: (value: string) => {
            try {
              parseQuery(value);
              return undefined;
            } catch (e) {
              return failureMessage(e);
            }
          },
          accept: async (value: string) => {
            const next = value.trim();
            if (next !== winRef.current.query) await applyFilter(next);
          },
        };
      }, 'Loading tags and users…');
      if (!answer) return;
      actions.addFilterHistory(answer.value);
      // The rows are already on screen (accept); marks made under another filter no longer apply.
      if (winRef.current.query !== before) dispatchMarks({ type: 'filter-changed' });
      actions.clearMessage();
    });

  const handle = (command: Command): boolean | void => {
    const current = cursorRow(winRef.current);
    switch (command) {
      case 'up':
        return move(-1, false);
      case 'down':
        return move(1, false);
      case 'markUp':
        return move(-1, true);
      case 'markDown':
        return move(1, true);
      case 'pageUp':
        return dispatch({ type: 'page', direction: -1 });
      case 'pageDown':
        return dispatch({ type: 'page', direction: 1 });
      case 'top':
        if (marksRef.current.range) dispatchMarks({ type: 'range', on: false });
        return dispatch({ type: 'top' });
      case 'bottom':
        if (marksRef.current.range) dispatchMarks({ type: 'range', on: false });
        return dispatch({ type: 'bottom' });
      case 'refresh':
        actions.clearMessage();
        return refresh();
      case 'back':
        if (winRef.current.walking !== undefined) {
          dispatch({ type: 'cancel' });
          return true;
        }
        if (marksRef.current.range) {
          dispatchMarks({ type: 'range', on: false });
          return true;
        }
        return false;
      case 'clearFilter':
        if (winRef.current.walking !== undefined) return dispatch({ type: 'cancel' });
        dispatchMarks({ type: 'filter-changed' });
        dispatch({ type: 'reset', query: '' });
        return actions.info('Filter cleared.');
      case 'filter':
        return askFilter();
      case 'tab':
        setTab(tabRef.current === 'open' ? 'resolved' : 'open');
        dispatchMarks({ type: 'clear' });
        dispatch({ type: 'reset' });
        return actions.clearMessage();
      case 'mark':
        if (!current) return;
        if (marksRef.current.all) return actions.info('Every matching error is marked; u clears the marks.');
        dispatchMarks({ type: 'toggle', errorId: current.errorId });
        return dispatch({ type: 'move', delta: 1 });
      case 'markRange':
        if (marksRef.current.all) return actions.info('Every matching error is marked; u clears the marks.');
        if (marksRef.current.range) {
          dispatchMarks({ type: 'range', on: false });
          return actions.info(`Range ended: ${formatCount(marksRef.current.ids.size)} marked.`);
        }
        if (!current) return;
        dispatchMarks({ type: 'range', on: true, errorId: current.errorId });
        return actions.info('Range mark: move to mark rows, v to end it.');
      case 'markAll': {
        const query = winRef.current.query;
        const marked = tabRef.current;
        // Bounded by the newest matching error now: what is marked is what the count says.
        const markUpTo = (upTo: string | undefined) => {
          dispatchMarks({ type: 'mark-all', query, ...(upTo ? { upTo } : {}) });
          actions.info(
            `Marked every ${marked} error${query ? ` matching ${query}` : ' of the step'}${total !== undefined ? ` (${formatCount(total)})` : ''}, not only the rows on screen.`,
          );
        };
        if (winRef.current.atTop && winRef.current.loaded) return markUpTo(winRef.current.rows[0]?.errorId);
        run(async () => markUpTo((await pager.run({ kind: 'first', limit: 1 })).rows[0]?.errorId));
        return;
      }
      case 'clearMarks':
        dispatchMarks({ type: 'clear' });
        return actions.info('Marks cleared.');
      case 'open':
        if (current) actions.push({ view: 'error', errorId: current.errorId, flowId, flowName: route.flowName, stepId, stepName });
        return;
      case 'resolve': {
        const t = target();
        if (t) run(async () => afterGone(await resolveErrors(ctx, t), t));
        return;
      }
      case 'reopen': {
        const t = target();
        if (t) run(async () => afterGone(await reopenErrors(ctx, t), t));
        return;
      }
      case 'retry':
      case 'retryBackoff': {
        const t = target();
        if (!t) return;
        run(async () => {
          // The newest matching row now: errors the retry creates later are not "being retried".
          const newest = t.selection.errorIds ? undefined : (await pager.run({ kind: 'first', limit: 1 })).rows[0];
          const maxRowId = newest ? rowIdOf(newest.errorId) : Math.max(0, ...winRef.current.rows.map((r) => rowIdOf(r.errorId)));
          const job = await retryErrors(ctx, t, command === 'retryBackoff', maxRowId);
          if (job) dispatchMarks({ type: 'clear' });
        });
        return;
      }
      case 'assign': {
        const t = target();
        if (t) run(() => assignErrors(ctx, t));
        return;
      }
      case 'tags': {
        const t = target();
        if (!t) return;
        const onHand = t.selection.errorIds ? winRef.current.rows.filter((r) => t.selection.errorIds!.includes(r.errorId)).map((r) => r.tags) : [];
        run(() => tagErrors(ctx, t, onHand));
        return;
      }
      case 'edit':
        if (!current) return actions.info('No error here.');
        run(() => editSnapshot(ctx, flowId, stepId, current.errorId, current.retryDataKey));
        return;
      case 'patch': {
        if (!hasMarks(marksRef.current)) return actions.info('Mark the errors whose snapshots to patch first (space, v, A); e edits one snapshot.');
        const t = target();
        if (t) run(() => patchSnapshots(ctx, t));
        return;
      }
      case 'export':
        run(() => exportCsv(ctx, { flowId, stepId, stepName, query: winRef.current.query, tab: tabRef.current }));
        return;
      case 'groups':
        actions.push({ view: 'groups', flowId, flowName: route.flowName, stepId, stepName, ...(winRef.current.query ? { query: winRef.current.query } : {}) });
        return;
      case 'logs':
        if (!current) return actions.info('No error here.');
        if (!current._flowJobId) return actions.info('This error belongs to no job: no logs.');
        actions.push({ view: 'job', jobId: current._flowJobId, flowId, flowName: route.flowName, ...(current.traceKey ? { traceKey: current.traceKey } : {}) });
        return;
    }
  };

  const pos = position(win, total);
  const where = pos.row !== undefined ? `row ${formatCount(pos.row)}${total !== undefined ? ` of ${formatCount(total)}` : ''}` : pos.fromEnd !== undefined ? `${formatCount(pos.fromEnd)} from the end` : '';
  // Position and marks are drawn on the view's own first line (not in the app's footer), so a key
  // press costs one render of this view and one frame.
  const info = [where, describeMarks(marks)].filter(Boolean).join(' · ');
  useCommands('errors', { tab, filtered: filter !== '', marked: hasMarks(marks) }, handle);

  const resolved = tab === 'resolved';
  const columnsSpec = resolved ? RESOLVED_COLUMNS : OPEN_COLUMNS;
  const shown = visibleRows(win);
  const rows: TableRow[] = shown.map((e) => {
    const marked = isMarked(marks, e.errorId);
    const retrying = !resolved && isRetrying(e, watches, filter);
    const cells = [
      marked ? MARKED : retrying ? RETRYING : !resolved && !e.retryDataKey ? NO_RETRY_DATA : ' ',
      shortTime(e.occurredAt),
      e.code,
      e.source,
      e.classification ?? '-',
      messageLine(e.message),
      e.tags && e.tags.length ? e.tags.join(', ') : '-',
    ];
    if (resolved) cells.push(age(e.resolvedAt), e.resolvedBy ?? '-');
    else cells.push(e.assignedTo ?? '-', retrying ? 'retrying' : !e.retryDataKey ? 'no data' : e.retryAt ? (Date.parse(e.retryAt) <= Date.now() ? 'due' : age(e.retryAt)) : '-');
    return {
      key: e.errorId,
      cells,
      style: theme.row({ cursor: false, marked, retrying }),
      cellStyles: [undefined, theme.muted(), undefined, undefined, theme.classification(e.classification)],
    };
  });

  const tabLabel = (name: 'open' | 'resolved') => {
    const text = name === 'open' ? `Open${tab === 'open' && filter === '' && step.data ? ` ${formatCount(step.data.numOpenError)}` : ''}` : 'Resolved';
    return tab === name ? `[${text}]` : ` ${text} `;
  };
  const status = win.walking !== undefined
    ? `jumping to the end… ${formatCount(win.walking)} rows (esc stops)`
    : win.error
      ? win.error
      : !win.loaded || (win.pending && win.rows.length === 0)
        ? 'loading…'
        : '';
  return (
    <Box flexDirection="column">
      <Box width={columns}>
        <Box flexGrow={1} flexShrink={1}>
          <Text key={`${tabLabel('open')}${tab}${filter}${status}`} wrap="truncate">
            <Text bold>{tabLabel('open')}</Text>
            <Text bold>{tabLabel('resolved')}</Text>
            <Text {...theme.muted()}>  </Text>
            {filter ? (
              <Text>
                filter <Text {...theme.key()}>{filter}</Text>
              </Text>
            ) : (
              <Text {...theme.muted()}>no filter (/ to filter)</Text>
            )}
            {status ? <Text {...theme.message(win.error ? 'error' : 'progress')}>  {status}</Text> : null}
          </Text>
        </Box>
        <Box flexShrink={0} marginLeft={1}>
          <Text {...theme.muted()}>{info}</Text>
        </Box>
      </Box>
      <Table
        columns={columnsSpec}
        rows={rows}
        height={tableHeight}
        width={columns}
        cursor={win.cursor - win.offset}
        empty={
          win.error
            ? win.error
            : !win.loaded
            ? 'Loading errors…'
            : filter
              ? `No ${tab} errors match ${filter}. esc clears the filter.`
              : resolved
                ? 'No resolved errors on this step.'
                : 'No open errors on this step.'
        }
      />
    </Box>
  );
}
