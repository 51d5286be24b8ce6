import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { LOG_DATA_STAGES, type ExecutionLogEntry } from '../../domain/api.js';
import { failureMessage } from '../backend.js';
import { Table, TextPage, type TableRow } from '../components/table.js';
import { useUIActions, useUIState } from '../context.js';
import { formatCount, shortTime, type ColumnSpec } from '../format.js';
import { useCommands, useListWindow, useLoad } from '../hooks.js';
import type { Command } from '../keys.js';
import { listMotion, visibleRange } from '../state/list.js';
import type { Route } from '../state/nav.js';
import type { LogStatusFilter } from '../../backend/contract/index.js';

// The execution-log drill-down: a job's log entries (paged as the cursor nears the end, filtered
// by status or by the trace key of the error we came from) → the trace of one record across the
// steps → the data each stage logged (apiCall, mapping, transform, hooks).

const STAGES: readonly string[] = [...LOG_DATA_STAGES, 'mapping'];
const STATUS_CYCLE: Array<LogStatusFilter | undefined> = [undefined, 'error', 'success', 'ignore'];
const PAGE = 100;

const ENTRY_COLUMNS: ColumnSpec[] = [
  { header: 'STARTED (UTC)', width: 14, min: 11 },
  { header: 'STEP', width: 24, min: 10 },
  { header: 'STATUS', width: 7 },
  { header: 'TOOK', width: 7, align: 'right' },
  { header: 'TRACE KEY', width: 16, min: 8 },
  { header: 'RECORD', width: 30, flex: true, min: 12 },
];

function took(ms: number | undefined): string {
  return ms === undefined ? '-' : `${ms} ms`;
}

function cursorOf(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  const query = url.split('?')[1] ?? '';
  return new URLSearchParams(query).get('next') ?? undefined;
}

export function JobLogsView({ route }: { route: Extract<Route, { view: 'job' }> }) {
  const ui = useUIState();
  const actions = useUIActions();
  const { backend, theme, bodyHeight, columns } = ui;
  const [status, setStatus] = useState<LogStatusFilter | undefined>(route.traceKey ? undefined : undefined);
  const [entries, setEntries] = useState<{ logs: ExecutionLogEntry[]; next?: string; loading: boolean; error?: string }>({ logs: [], loading: true });
  const head = useLoad(async () => {
    const [job, flow] = await Promise.all([backend.getJob(route.jobId), backend.getFlow(route.flowId)]);
    return { job, names: new Map(flow.steps.map((s) => [s._id, s.name])) };
  }, [route.jobId, route.flowId]);
  const height = bodyHeight - 3;
  const [list, dispatch, listRef] = useListWindow(entries.logs.length, height);

  const params = (next?: string) => ({
    pageSize: PAGE,
    ...(status ? { status } : {}),
    ...(route.traceKey ? { traceKeyPrefix: route.traceKey } : {}),
    ...(next ? { next } : {}),
  });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    setEntries({ logs: [], loading: true });
    dispatch({ type: 'top' });
    backend.records.listLogs(route.flowId, route.jobId, params()).then(
      (r) => live && setEntries({ logs: r.logs, ...(cursorOf(r.nextPageUrl) ? { next: cursorOf(r.nextPageUrl)! } : {}), loading: false }),
      (e: unknown) => live && setEntries({ logs: [], loading: false, error: failureMessage(e) }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [route.flowId, route.jobId, status, generation]);

  // More entries as the cursor nears the end of those loaded.
  useEffect(() => {
    if (entries.loading || !entries.next || list.cursor < entries.logs.length - height - 1) return;
    let live = true;
    const next = entries.next;
    setEntries((s) => ({ ...s, loading: true }));
    backend.records.listLogs(route.flowId, route.jobId, params(next)).then(
      (r) => live && setEntries((s) => ({ logs: [...s.logs, ...r.logs], ...(cursorOf(r.nextPageUrl) ? { next: cursorOf(r.nextPageUrl)! } : {}), loading: false })),
      (e: unknown) => live && setEntries((s) => ({ ...s, loading: false, error: failureMessage(e) })),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [list.cursor, entries.next, entries.loading]);

  const names = head.data?.names;
  const handle = (command: Command) => {
    const current = entries.logs[listRef.current.cursor];
    const motion = listMotion(command);
    if (motion) return dispatch(motion);
    switch (command) {
      case 'refresh':
        head.reload();
        return setGeneration((g) => g + 1);
      case 'statusFilter': {
        const next = STATUS_CYCLE[(STATUS_CYCLE.indexOf(status) + 1) % STATUS_CYCLE.length];
        setStatus(next);
        return actions.info(next ? `Showing ${next} entries.` : 'Showing every entry.');
      }
      case 'open':
        if (current) actions.push({ view: 'trace', jobId: route.jobId, flowId: route.flowId, flowName: route.flowName, entry: current });
        return;
    }
  };
  useCommands('job', {}, handle, `${formatCount(entries.logs.length)}${entries.next ? '+' : ''} entries${status ? ` · ${status} only` : ''}${route.traceKey ? ` · trace ${route.traceKey}` : ''}`);

  const job = head.data?.job;
  const { from, to } = visibleRange(list);
  const rows: TableRow[] = entries.logs.slice(from, to).map((l, i) => ({
    key: `${l.recordId}-${l.groupId}-${from + i}`,
    cells: [shortTime(l.startedAt), names?.get(l._expOrImpId) ?? l._expOrImpId, l.status, took(l.timeTaken), l.traceKey ?? '-', l.recordId],
    cellStyles: [theme.muted(), undefined, l.status === 'error' ? theme.message('error') : l.status === 'success' ? theme.message('success') : theme.muted()],
  }));
  return (
    <Box flexDirection="column">
      <Text key={job ? `${job.status}${job.numSuccess}${job.numError}${job.numResolved}` : 'none'} wrap="truncate">
        {job ? (
          <>
            <Text bold>
              {job.type} job {job._id}
            </Text>
            <Text {...theme.jobStatus(job.status)}> {job.status}</Text>
            <Text {...theme.muted()}>
              {' '}· {route.flowName} · {formatCount(job.numSuccess ?? 0)} ok, {formatCount(job.numError ?? 0)} errors, {formatCount(job.numResolved ?? 0)} resolved
            </Text>
          </>
        ) : (
          head.error ?? ' '
        )}
      </Text>
      <Text wrap="truncate" {...theme.muted()}>
        {job && job.children.length
          ? job.children.map((c) => `${names?.get(c._expOrImpId ?? '') ?? c._expOrImpId}: ${c.status} ${formatCount(c.numSuccess ?? 0)} ok ${formatCount(c.numError ?? 0)} err`).join(' · ')
          : ' '}
      </Text>
      <Table
        columns={ENTRY_COLUMNS}
        rows={rows}
        height={height}
        width={columns}
        cursor={list.cursor - from}
        empty={entries.error ?? (entries.loading ? 'Loading log entries…' : `No log entries${status ? ` with status ${status}` : ''}${route.traceKey ? ` for trace ${route.traceKey}` : ''}.`)}
      />
    </Box>
  );
}

const TRACE_COLUMNS: ColumnSpec[] = [
  { header: 'STEP', width: 24, min: 10 },
  { header: 'STATUS', width: 7 },
  { header: 'STAGE', width: 22, min: 6 },
  { header: 'STARTED (UTC)', width: 14, min: 11 },
  { header: 'TOOK', width: 7, align: 'right' },
  { header: 'RECORD', width: 30, flex: true, min: 12 },
];

export function TraceView({ route }: { route: Extract<Route, { view: 'trace' }> }) {
  const ui = useUIState();
  const actions = useUIActions();
  const { backend, theme, bodyHeight, columns } = ui;
  const { entry } = route;
  const trace = useLoad(async () => {
    const [meta, flow] = await Promise.all([
      backend.records.logMetadata(route.flowId, route.jobId, {
        _expOrImpId: entry._expOrImpId,
        groupId: entry.groupId,
        recordId: entry.recordId,
        ...(entry.traceKey ? { traceKey: entry.traceKey } : {}),
      }),
      backend.getFlow(route.flowId),
    ]);
    return { meta, names: new Map(flow.steps.map((s) => [s._id, s.name])) };
  }, [route.jobId, entry.recordId]);
  const height = bodyHeight - 2;
  const steps = trace.data?.meta.steps ?? [];
  const [list, dispatch, listRef] = useListWindow(steps.length, height);
  const handle = (command: Command) => {
    const current = steps[listRef.current.cursor];
    const motion = listMotion(command);
    if (motion) return dispatch(motion);
    switch (command) {
      case 'refresh':
        return trace.reload();
      case 'open':
        if (current) {
          actions.push({
            view: 'stage',
            jobId: route.jobId,
            flowId: route.flowId,
            flowName: route.flowName,
            step: current,
            stepName: trace.data?.names.get(current._expOrImpId) ?? current._expOrImpId,
          });
        }
        return;
    }
  };
  useCommands('trace', {}, handle, trace.data ? `${steps.length} steps` : undefined);
  const meta = trace.data?.meta;
  const { from, to } = visibleRange(list);
  const rows: TableRow[] = steps.slice(from, to).map((s, i) => ({
    key: `${s._expOrImpId}-${s.recordId}-${from + i}`,
    cells: [trace.data?.names.get(s._expOrImpId) ?? s._expOrImpId, s.status, s.stage ?? '-', shortTime(s.startedAt), took(s.timeTaken), s.recordId],
    cellStyles: [undefined, s.status === 'error' ? theme.message('error') : s.status === 'success' ? theme.message('success') : theme.muted()],
  }));
  return (
    <Box flexDirection="column">
      <Text key={meta ? `${meta.traceKey}${meta.duplicateTraceKey}` : 'none'} wrap="truncate">
        {meta ? (
          <>
            <Text bold>{meta.traceView ? `Trace ${meta.traceKey} across the steps` : `Record ${entry.recordId} (no trace key: its own step only)`}</Text>
            {meta.duplicateTraceKey ? <Text {...theme.message('error')}> · this trace key is on several records at a step</Text> : null}
          </>
        ) : (
          trace.error ?? ' '
        )}
      </Text>
      <Table columns={TRACE_COLUMNS} rows={rows} height={height} width={columns} cursor={list.cursor - from} empty={trace.error ?? (trace.loading ? 'Loading the trace…' : 'No steps.')} />
    </Box>
  );
}

export function StageDataView({ route }: { route: Extract<Route, { view: 'stage' }> }) {
  const ui = useUIState();
  const { backend, theme, bodyHeight, columns } = ui;
  const { step } = route;
  const data = useLoad(async () => {
    const stages = await Promise.all(
      STAGES.map(async (stage) => {
        const r = await backend.records.logData(route.flowId, route.jobId, { _expOrImpId: step._expOrImpId, stage, groupId: step.groupId, recordId: step.recordId });
        return { stage, logs: r.logs };
      }),
    );
    return stages.filter((s) => s.logs.length > 0);
  }, [route.jobId, step.recordId, step._expOrImpId]);
  const lines: Array<{ text: string; style?: { bold?: boolean } }> = [];
  lines.push({ text: `${route.stepName} · record ${step.recordId} · ${step.status}${step.stage ? ` at ${step.stage}` : ''}`, style: { bold: true } });
  if (data.data && data.data.length === 0) lines.push({ text: '', style: {} }, { text: 'No stage data was logged for this record.' });
  for (const s of data.data ?? []) {
    lines.push({ text: '' }, { text: `── ${s.stage} ──`, style: theme.heading() });
    for (const l of s.logs) for (const t of JSON.stringify(l.log, null, 2).split('\n')) lines.push({ text: `  ${t}` });
  }
  const [list, dispatch] = useListWindow(lines.length, bodyHeight, 'scroll');
  const handle = (command: Command) => {
    const motion = listMotion(command);
    if (motion) return dispatch(motion);
    switch (command) {
      case 'refresh':
        return data.reload();
    }
  };
  useCommands('stage', {}, handle, data.data ? `${data.data.map((s) => s.stage).join(', ') || 'no stages'}` : undefined);
  if (data.error && !data.data) return <Text {...theme.message('error')}>{data.error}</Text>;
  if (!data.data) return <Text {...theme.muted()}>Loading stage data…</Text>;
  return <TextPage lines={lines} offset={list.offset} height={bodyHeight} width={columns} />;
}
