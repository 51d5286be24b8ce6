import { Box, Text } from 'ink';
import { mergeQueries, parseQuery, formatQuery } from '../../domain/query.js';
import { assignErrors, exportCsv, resolveErrors, retryErrors, tagErrors, type ActionContext, type Target } from '../actions.js';
import { Table, type TableRow } from '../components/table.js';
import { useUIActions, useUIState } from '../context.js';
import { age, formatCount, messageLine, type ColumnSpec } from '../format.js';
import { useCommands, useDataRefresh, useListWindow, useLoad, useOnReturn } from '../hooks.js';
import type { Command } from '../keys.js';
import { rowIdOf } from '../state/error-window.js';
import { listMotion, visibleRange } from '../state/list.js';
import type { Route } from '../state/nav.js';
import type { ErrorGroup } from '../../backend/contract/index.js';

// Error groups of a step (or of every step of a flow): the open errors counted by signature,
// largest first, with a plain bar of each group's share of its step. Enter opens the errors table
// filtered to the group (sig:<id>); r/b/x/a/t/E act on every error of the group, the count
// confirmed first as for mark-all.

type GroupsRoute = Extract<Route, { view: 'groups' }>;

/** Groups asked for: far more than a screen, and a step rarely has more than a handful. */
const GROUP_LIMIT = 500;
const BAR_WIDTH = 10;

/** A share (0..1) as a plain bar of `width` cells and a percentage. */
export function shareBar(share: number, width = BAR_WIDTH): string {
  const filled = Math.max(share > 0 ? 1 : 0, Math.round(share * width));
  const pct = share * 100;
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${pct >= 10 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

/** The group's errors as a query: its sig, within the filter the groups were counted under. */
export function groupQuery(group: Pick<ErrorGroup, 'sig'>, filter: string | undefined): string {
  return formatQuery(mergeQueries(parseQuery(filter ?? ''), parseQuery(`sig:${group.sig}`)));
}

export function GroupsView({ route }: { route: GroupsRoute }) {
  const ui = useUIState();
  const actions = useUIActions();
  const { backend, theme, bodyHeight, columns } = ui;
  const perFlow = route.stepId === undefined;
  const groups = useLoad(
    () => backend.errorGroups(route.flowId, route.stepId, { ...(route.query ? { query: route.query } : {}), limit: GROUP_LIMIT }),
    [route.flowId, route.stepId, route.query],
  );
  const height = bodyHeight - 2;
  const data = groups.data?.groups ?? [];
  const [list, dispatch, listRef] = useListWindow(data.length, height);
  useOnReturn(groups.reload);
  useDataRefresh(groups.reload);
  const ctx: ActionContext = { backend, ui: actions };

  const target = (g: ErrorGroup): Target => ({
    flowId: route.flowId,
    stepId: g._expOrImpId,
    stepName: g.stepName,
    selection: { query: groupQuery(g, route.query) },
    tab: 'open',
  });
  const run = (work: () => Promise<unknown>) => {
    void work().catch((e: unknown) => actions.fail(e));
  };

  const handle = (command: Command) => {
    const motion = listMotion(command);
    if (motion) return dispatch(motion);
    if (command === 'refresh') return groups.reload();
    const current = data[listRef.current.cursor];
    if (!current) {
      if (['open', 'retry', 'retryBackoff', 'resolve', 'assign', 'tags', 'export'].includes(command)) actions.info('No group here.');
      return;
    }
    switch (command) {
      case 'open':
        actions.push({ view: 'errors', flowId: route.flowId, flowName: route.flowName, stepId: current._expOrImpId, stepName: current.stepName, query: groupQuery(current, route.query) });
        return;
      case 'retry':
      case 'retryBackoff':
        run(() => retryErrors(ctx, target(current), command === 'retryBackoff', rowIdOf(current.sampleErrorId)));
        return;
      case 'resolve':
        run(() => resolveErrors(ctx, target(current)));
        return;
      case 'assign':
        run(() => assignErrors(ctx, target(current)));
        return;
      case 'tags':
        run(() => tagErrors(ctx, target(current)));
        return;
      case 'export':
        run(() => exportCsv(ctx, { flowId: route.flowId, stepId: current._expOrImpId, stepName: current.stepName, query: groupQuery(current, route.query), tab: 'open' }));
        return;
    }
  };
  const r = groups.data;
  useCommands('groups', {}, handle, r ? `${formatCount(r.total)} open errors in ${formatCount(r.numGroups)} groups` : undefined);

  const COLUMNS: ColumnSpec[] = [
    { header: 'NEW', width: 3, min: 3 },
    { header: 'COUNT', width: 9, align: 'right' },
    { header: 'SHARE', width: BAR_WIDTH + 6, min: BAR_WIDTH + 6 },
    ...(perFlow ? [{ header: 'STEP', width: 20, min: 8, drop: 2 }] : []),
    { header: 'CODE', width: 12, min: 4 },
    { header: 'CLASS', width: 12, min: 6, drop: 3 },
    { header: 'TEMPLATE', width: 30, flex: true, min: 20 },
    { header: 'LAST SEEN', width: 9, min: 8, drop: 1 },
    { header: 'SIG', width: 12, min: 12, drop: 4 },
  ];

  if (groups.error && !groups.data) return <Text {...theme.message('error')}>{groups.error}</Text>;
  const { from, to } = visibleRange(list);
  const rows: TableRow[] = data.slice(from, to).map((g) => ({
    key: `${g._expOrImpId}:${g.sig}`,
    cells: [
      g.new ? 'new' : '',
      formatCount(g.count),
      shareBar(g.share),
      ...(perFlow ? [g.stepName] : []),
      g.code,
      g.classification ?? '-',
      messageLine(g.template),
      age(g.lastSeenAt),
      g.sig,
    ],
    cellStyles: [theme.key(), theme.count(g.count), theme.muted(), ...(perFlow ? [undefined] : []), undefined, theme.classification(g.classification)],
  }));
  const where = route.stepName ? `${route.flowName} › ${route.stepName}` : `${route.flowName} (every step)`;
  const since = r?.newSince ? ` · new = first seen since ${age(r.newSince)}` : '';
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>Groups</Text>
        <Text {...theme.muted()}>
          {' '}
          {where}
          {route.query ? ` · filter ${route.query}` : ''}
          {since}
        </Text>
      </Text>
      <Table
        columns={COLUMNS}
        rows={rows}
        height={height}
        width={columns}
        cursor={list.cursor - from}
        empty={groups.loading ? 'Counting errors by group…' : route.query ? `No open errors match ${route.query}.` : 'No open errors here.'}
      />
    </Box>
  );
}
