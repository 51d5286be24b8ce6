import { Box, Text } from 'ink';
import { TERMINAL_JOB_STATUSES, type Job } from '../../domain/api.js';
import { Table, type TableRow } from '../components/table.js';
import { useUIActions, useUIState, type RetryWatch } from '../context.js';
import { age, formatCount, progressBar, type ColumnSpec } from '../format.js';
import { useCommands, useInterval, useListWindow, useLoad, useOnReturn } from '../hooks.js';
import { useNavKey } from '../context.js';
import type { Command } from '../keys.js';
import { listMotion, visibleRange } from '../state/list.js';

// Recent flow runs and retry jobs with live counters: polled every 500 ms while any job is still
// running (a progress bar for those), every few seconds otherwise.

const COLUMNS: ColumnSpec[] = [
  { header: 'JOB', width: 24, min: 10, drop: 1 },
  { header: 'TYPE', width: 5, min: 5 },
  { header: 'FLOW', width: 24, flex: true, min: 12 },
  { header: 'STATUS', width: 10, min: 9 },
  { header: 'PROGRESS', width: 22, min: 12 },
  { header: 'OK', width: 7, align: 'right', min: 5, drop: 3 },
  { header: 'ERRORS', width: 7, align: 'right', min: 6 },
  { header: 'RESOLVED', width: 8, align: 'right', min: 6, drop: 2 },
  { header: 'STARTED', width: 9, min: 8, drop: 4 },
];

const ACTIVE_POLL_MS = 500;
const IDLE_POLL_MS = 3000;

export function isActiveJob(job: Pick<Job, 'status'>): boolean {
  return !TERMINAL_JOB_STATUSES.includes(job.status);
}

/** The progress cell: a bar while running (when the whole is known), the outcome after. */
export function jobProgress(job: Job, watch: RetryWatch | undefined, width: number): string {
  const done = (job.numSuccess ?? 0) + (job.numError ?? 0) + (job.numIgnore ?? 0);
  if (!isActiveJob(job)) return job.status === 'completed' ? 'done' : job.status;
  const total = job.type === 'retry' ? watch?.total : job.doneExporting ? job.numExport : undefined;
  if (total && total > 0) {
    const pct = `${Math.min(100, Math.round((done / total) * 100))}%`;
    return `${progressBar(done, total, Math.max(4, width - pct.length - 1))} ${pct}`;
  }
  return job.status === 'queued' ? 'waiting for a worker' : `${formatCount(done)} done…`;
}

export function JobsView() {
  const ui = useUIState();
  const actions = useUIActions();
  const navKey = useNavKey();
  const { backend, theme, bodyHeight, columns, retryWatches } = ui;
  const jobs = useLoad(async () => {
    const [list, flows] = await Promise.all([backend.listJobs({ limit: 100 }), backend.listFlows()]);
    return { list, names: new Map(flows.map((f) => [f._id, f.name])) };
  }, []);
  const height = bodyHeight - 1;
  const data = jobs.data?.list ?? [];
  const [list, dispatch, listRef] = useListWindow(data.length, height);
  useOnReturn(jobs.reload);
  const anyActive = data.some(isActiveJob);
  const visible = ui.isVisible(navKey);
  useInterval(jobs.reload, anyActive ? ACTIVE_POLL_MS : IDLE_POLL_MS, visible && !jobs.loading);

  const currentRow = () => data[listRef.current.cursor];
  const flowName = (job: Job) => (job._flowId ? jobs.data?.names.get(job._flowId) ?? job._flowId : '-');
  const handle = (command: Command) => {
    const current = currentRow();
    const motion = listMotion(command);
    if (motion) return dispatch(motion);
    switch (command) {
      case 'refresh':
        return jobs.reload();
      case 'open':
      case 'logs':
        if (!current) return;
        if (!current._flowId) return actions.info('This job belongs to no flow: no logs.');
        actions.push({ view: 'job', jobId: current._id, flowId: current._flowId, flowName: flowName(current) });
        return;
      case 'cancelJob':
        if (!current) return;
        void (async () => {
          try {
            const answer = await actions.ask({ kind: 'confirm', message: `Cancel ${current.type} job ${current._id} (${flowName(current)})?` });
            if (!answer?.yes) return actions.info('Not canceled.');
            const job = await backend.retries.cancelJob(current._id);
            actions.success(`Job ${job._id} is ${job.status}.`);
            jobs.reload();
          } catch (e) {
            actions.fail(e);
          }
        })();
        return;
    }
  };
  const running = data.filter(isActiveJob).length;
  const underCursor = currentRow();
  useCommands('jobs', { cancelable: underCursor ? isActiveJob(underCursor) : false }, handle, data.length ? `${data.length} jobs${running ? ` · ${running} running` : ''}` : undefined);

  if (jobs.error && !jobs.data) return <Text {...theme.message('error')}>{jobs.error}</Text>;
  const { from, to } = visibleRange(list);
  const progressWidth = 22;
  const rows: TableRow[] = data.slice(from, to).map((j) => {
    const watch = retryWatches.find((w) => w.jobId === j._id);
    return {
      key: j._id,
      cells: [
        j._id,
        j.type,
        flowName(j),
        j.status,
        jobProgress(j, watch, progressWidth),
        formatCount(j.numSuccess ?? 0),
        formatCount(j.numError ?? 0),
        formatCount(j.numResolved ?? 0),
        age(j.startedAt ?? j.createdAt),
      ],
      cellStyles: [theme.muted(), undefined, undefined, theme.jobStatus(j.status), theme.progress()],
    };
  });
  return (
    <Box flexDirection="column">
      <Table columns={COLUMNS} rows={rows} height={height} width={columns} cursor={list.cursor - from} empty={jobs.loading ? 'Loading jobs…' : 'No jobs yet. Run a flow (flowdeck flows run) or retry errors (r).'} />
    </Box>
  );
}
