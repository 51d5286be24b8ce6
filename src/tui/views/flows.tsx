import { Box, Text } from 'ink';
import type { FlowInfo } from '../../backend/contract/index.js';
import { Table, type TableRow } from '../components/table.js';
import { useUIActions, useUIState } from '../context.js';
import { age, formatCount, type ColumnSpec } from '../format.js';
import { cheapEnough, useAutoRefresh, useCommands, useDataRefresh, useListWindow, useLoad, useOnReturn } from '../hooks.js';
import type { Command } from '../keys.js';
import { listMotion, visibleRange } from '../state/list.js';

// Flows: each flow with its open errors, its last run and whether it is enabled.

const COLUMNS: ColumnSpec[] = [
  { header: 'FLOW', width: 30, flex: true, min: 16 },
  { header: 'OPEN ERRORS', width: 11, align: 'right' },
  { header: 'LAST RUN', width: 24, min: 10 },
  { header: 'STATE', width: 8, min: 7 },
];

export function lastRun(flow: FlowInfo): string {
  if (!flow.lastJob) return 'never';
  return `${flow.lastJob.status} ${age(flow.lastJob.endedAt ?? flow.lastJob.startedAt)}`;
}

export function FlowsView() {
  const ui = useUIState();
  const actions = useUIActions();
  const { backend, theme, bodyHeight, columns } = ui;
  const flows = useLoad(() => backend.listFlows(), []);
  const height = bodyHeight - 1;
  const data = flows.data ?? [];
  const [list, dispatch, listRef] = useListWindow(data.length, height);
  useOnReturn(flows.reload);
  useDataRefresh(flows.reload);
  useAutoRefresh(() => cheapEnough(flows, ui.refreshMs) && flows.reload());

  const currentRow = () => data[listRef.current.cursor];
  const handle = (command: Command) => {
    const current = currentRow();
    const motion = listMotion(command);
    if (motion) return dispatch(motion);
    switch (command) {
      case 'refresh':
        return flows.reload();
      case 'open':
        if (current) actions.push({ view: 'steps', flowId: current._id, flowName: current.name });
        return;
      case 'logs':
        if (!current) return;
        if (!current.lastJob) return actions.info(`${current.name} has never run: no logs yet.`);
        actions.push({ view: 'job', jobId: current.lastJob._id, flowId: current._id, flowName: current.name });
        return;
    }
  };
  const total = data.reduce((n, f) => n + f.numOpenError, 0);
  useCommands('flows', {}, handle, data.length ? `${data.length} flows · ${formatCount(total)} open errors` : undefined);

  if (flows.error && !flows.data) return <Text {...theme.message('error')}>{flows.error}</Text>;
  const { from, to } = visibleRange(list);
  const rows: TableRow[] = data.slice(from, to).map((f) => ({
    key: f._id,
    cells: [f.name, formatCount(f.numOpenError), lastRun(f), f.removed ? 'removed' : f.disabled ? 'disabled' : 'enabled'],
    cellStyles: [undefined, theme.count(f.numOpenError), theme.jobStatus(f.lastJob?.status), theme.flowState(f.disabled || f.removed === true)],
  }));
  return (
    <Box flexDirection="column">
      <Table
        columns={COLUMNS}
        rows={rows}
        height={height}
        width={columns}
        cursor={list.cursor - from}
        empty={flows.loading ? 'Loading flows…' : 'No flows in this workspace. Add flow files under flows/, or try `flowdeck demo`.'}
      />
    </Box>
  );
}
