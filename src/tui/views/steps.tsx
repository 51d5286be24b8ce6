import { Box, Text } from 'ink';
import { Table, type TableRow } from '../components/table.js';
import { useUIActions, useUIState } from '../context.js';
import { age, formatCount, shortTime, type ColumnSpec } from '../format.js';
import { cheapEnough, useAutoRefresh, useCommands, useDataRefresh, useListWindow, useLoad, useOnReturn } from '../hooks.js';
import type { Command } from '../keys.js';
import { listMotion, visibleRange } from '../state/list.js';
import type { Route } from '../state/nav.js';

// The steps of a flow with their open errors and the time of the last one (the flow summary).

const COLUMNS: ColumnSpec[] = [
  { header: 'STEP', width: 30, flex: true, min: 16 },
  { header: 'TYPE', width: 7 },
  { header: 'OPEN ERRORS', width: 11, align: 'right' },
  { header: 'LAST ERROR', width: 24, min: 10 },
];

export function StepsView({ route }: { route: Extract<Route, { view: 'steps' }> }) {
  const ui = useUIState();
  const actions = useUIActions();
  const { backend, theme, bodyHeight, columns } = ui;
  const flow = useLoad(() => backend.getFlow(route.flowId), [route.flowId]);
  const height = bodyHeight - 2;
  const steps = flow.data?.steps ?? [];
  const [list, dispatch, listRef] = useListWindow(steps.length, height);
  useOnReturn(flow.reload);
  useDataRefresh(flow.reload);
  useAutoRefresh(() => cheapEnough(flow, ui.refreshMs) && flow.reload());

  const currentRow = () => steps[listRef.current.cursor];
  const handle = (command: Command) => {
    const current = currentRow();
    const motion = listMotion(command);
    if (motion) return dispatch(motion);
    switch (command) {
      case 'refresh':
        return flow.reload();
      case 'open':
        if (current) actions.push({ view: 'errors', flowId: route.flowId, flowName: route.flowName, stepId: current._id, stepName: current.name });
        return;
      case 'groups':
        actions.push({ view: 'groups', flowId: route.flowId, flowName: route.flowName });
        return;
    }
  };
  useCommands('steps', {}, handle, flow.data ? `${formatCount(flow.data.numOpenError)} open errors` : undefined);

  if (flow.error && !flow.data) return <Text {...theme.message('error')}>{flow.error}</Text>;
  const f = flow.data;
  const { from, to } = visibleRange(list);
  const rows: TableRow[] = steps.slice(from, to).map((s) => ({
    key: s._id,
    cells: [s.name, s.type, formatCount(s.numOpenError), s.lastErrorAt ? `${shortTime(s.lastErrorAt)} (${age(s.lastErrorAt)})` : '-'],
    cellStyles: [undefined, theme.muted(), theme.count(s.numOpenError), undefined],
  }));
  return (
    <Box flexDirection="column">
      <Text key={f ? `${f.name}${f.disabled}${f.lastJob?.status}` : ''} wrap="truncate">
        {f ? (
          <>
            <Text bold>{f.name}</Text>
            <Text {...theme.flowState(f.disabled)}> {f.disabled ? 'disabled' : 'enabled'}</Text>
            <Text {...theme.muted()}>
              {' '}· last run {f.lastJob ? `${f.lastJob.status} ${age(f.lastJob.endedAt ?? f.lastJob.startedAt)}` : 'never'}
              {f.file ? ` · ${f.file}` : ''}
            </Text>
          </>
        ) : (
          ' '
        )}
      </Text>
      <Table columns={COLUMNS} rows={rows} height={height} width={columns} cursor={list.cursor - from} empty={flow.loading ? 'Loading steps…' : 'This flow has no steps.'} />
    </Box>
  );
}
