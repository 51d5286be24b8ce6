import { Box, Text } from 'ink';
import { useState } from 'react';
import type { JobListEntry, JobListParams } from '../../backend/contract/index.js';
import type { TuiBackend } from '../backend.js';
import { JOB_FILTER_HINT, JOB_FILTER_SUGGESTIONS, parseJobFilter } from '../state/job-filter.js';
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
  { header: 'STEP', width: 16, min: 8, drop: 0.7 },
  { header: 'BY', width: 14, min: 6, drop: 0.6 },
  { header: 'STATUS', width: 10, min: 9 },
  { header: 'PROGRESS', width: 22, min: 12 },
  { header: 'OK', width: 7, align: 'right', min: 5, drop: 3 },
  { header: 'ERRORS', width: 7, align: 'right', min: 6 },
  { header: 'RESOLVED', width: 8, align: 'right', min: 6, drop: 2 },
  { header: 'STARTED', width: 9, min: 8, drop: 4 },
];

/** Jobs loaded at first; moving past the last one loads this many more. */
const JOBS_PAGE = 100;

/** A listed job; an unfinished retry job also with how many records it holds (its bar's whole). */
type ListedJob = JobListEntry & { records?: number };

/** The jobs of a filter, newest first, up to `limit` (read in pages of at most 1,000). */
async function loadJobs(backend: TuiBackend, filter: Omit<JobListParams, 'limit' | 'before'>, limit: number): Promise<{ list: ListedJob[]; more: boolean }> {
  const list: ListedJob[] = [];
  let before: string | undefined;
  while (list.length < limit) {
    const want = Math.min(1000, limit - list.length + 1);
    const page = await backend.listJobs({ ...filter, limit: want, ...(before ? { before } : {}) });
    list.push(...page);
    if (page.length < want) break;
    before = page[page.length - 1]!._id;
  }
  const more = list.length > limit;
  const shown = list.slice(0, limit);
  // Unfinished retry jobs are few: their totals (one grouped count each) make their bars true,
  // automatic ones and those queued elsewhere included.
  await Promise.all(
    shown.map(async (job, i) => {
      if (job.type !== 'retry' || !isActiveJob(job)) return;
      const counts = await backend.retries.recordCounts(job._id);
      if (counts) shown[i] = { ...job, records: counts.total };
    }),
  );
  return { list: shown, more };
}

/** "100 jobs · 2 running · 96 queued": a queued job waits for a worker, it is not running. */
export function describeJobs(jobs: readonly Pick<Job, 'status'>[], more: boolean, filter: string): string {
  const running = jobs.filter((j) => isActiveJob(j) && j.status !== 'queued').length;
  const queued = jobs.filter((j) => j.status === 'queued').length;
  return [
    `${jobs.length}${more ? '+' : ''} job${jobs.length === 1 ? '' : 's'}${filter ? ` matching ${filter}` : ''}`,
    running ? `${running} running` : '',
    queued ? `${queued} queued` : '',
  ].filter(Boolean).join(' · ');
}

const ACTIVE_POLL_MS = 500;
const IDLE_POLL_MS = 3000;

export function isActiveJob(job: Pick<Job, 'status'>): boolean {
  return !TERMINAL_JOB_STATUSES.includes(job.status);
}

/** The progress cell: a bar while running (when the whole is known), the outcome after (why, for a failed job). */
export function jobProgress(job: ListedJob, watch: RetryWatch | undefined, width: number): string {
  const done = (job.numSuccess ?? 0) + (job.numError ?? 0) + (job.numIgnore ?? 0);
  if (!isActiveJob(job)) return job.status === 'completed' ? 'done' : job.status === 'failed' && job.note ? job.note : job.status === 'canceled' && job.canceledBy ? `canceled by ${job.canceledBy}` : job.status;
  if (job.status === 'queued') return job.records ? `${formatCount(job.records)} records, waiting for a worker` : 'waiting for a worker';
  const total = job.type === 'retry' ? (job.records ?? watch?.total) : job.doneExporting ? job.numExport : undefined;
  if (total && total > 0) {
    const pct = `${Math.min(100, Math.round((done / total) * 100))}%`;
    return `${progressBar(done, total, Math.max(4, width - pct.length - 1))} ${pct}`;
  }
  return `${formatCount(done)} done…`;
}

export function JobsView() {
  const ui = useUIState();
  const actions = useUIActions();
  const navKey = useNavKey();
  const { backend, theme, bodyHeight, columns, retryWatches } = ui;
  const [filter, setFilter] = useState('');
  const [limit, setLimit] = useState(JOBS_PAGE);
  const jobs = useLoad(async () => {
    const parsed = parseJobFilter(filter, ui.operator);
    const params = 'params' in parsed ? parsed.params : {};
    const [{ list, more }, flows] = await Promise.all([loadJobs(backend, params, limit), backend.listFlows()]);
    return {
      list,
      more,
      names: new Map(flows.map((f) => [f._id, f.name])),
      steps: new Map(flows.flatMap((f) => f.steps.map((st) => [`${f._id}/${st._id}`, st.name] as const))),
    };
  }, [filter, limit]);
  const height = bodyHeight - 1;
  const data = jobs.data?.list ?? [];
  const [list, dispatch, listRef] = useListWindow(data.length, height);
  useOnReturn(jobs.reload);
  const anyActive = data.some(isActiveJob);
  const visible = ui.isVisible(navKey);
  useInterval(jobs.reload, anyActive ? ACTIVE_POLL_MS : IDLE_POLL_MS, visible && !jobs.loading);

  const askFilter = () =>
    void (async () => {
      const answer = await actions.ask({
        kind: 'text',
        label: 'jobs:',
        initial: filter,
        hint: JOB_FILTER_HINT,
        suggestions: JOB_FILTER_SUGGESTIONS,
        validate: (v) => {
          const parsed = parseJobFilter(v, ui.operator);
          return 'error' in parsed ? parsed.error : undefined;
        },
      });
      if (!answer) return;
      setFilter(answer.value.trim());
      setLimit(JOBS_PAGE);
      dispatch({ type: 'top' });
    })();

  const currentRow = () => data[listRef.current.cursor];
  const flowName = (job: Job) => (job._flowId ? jobs.data?.names.get(job._flowId) ?? job._flowId : '-');
  const handle = (command: Command) => {
    const current = currentRow();
    const motion = listMotion(command);
    if (motion) {
      // Moving past the last loaded job loads the next page (the operator's own old job is reachable).
      const nearEnd = listRef.current.cursor >= data.length - 1 - (command === 'pageDown' ? height : 0);
      if (jobs.data?.more && (command === 'bottom' || ((command === 'down' || command === 'pageDown') && nearEnd))) setLimit((l) => (l > data.length ? l : l + JOBS_PAGE)); // a burst of keys asks for the next page once
      return dispatch(motion);
    }
    switch (command) {
      case 'filter':
        return askFilter();
      case 'clearFilter':
        if (!filter) return false;
        setFilter('');
        setLimit(JOBS_PAGE);
        return actions.info('Filter cleared.');
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
  const underCursor = currentRow();
  useCommands('jobs', { cancelable: underCursor ? isActiveJob(underCursor) : false, filtered: filter !== '' }, handle, data.length || filter ? [describeJobs(data, jobs.data?.more === true, filter), underCursor?.status === 'failed' && underCursor.note ? `failed: ${underCursor.note}` : ''].filter(Boolean).join(' · ') : undefined);

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
        j._expOrImpId ? (jobs.data?.steps.get(`${j._flowId}/${j._expOrImpId}`) ?? j._expOrImpId) : '-',
        j.triggeredBy ?? '-',
        j.status,
        jobProgress(j, watch, progressWidth),
        formatCount(j.numSuccess ?? 0),
        formatCount(j.numError ?? 0),
        formatCount(j.numResolved ?? 0),
        j.startedAt ? age(j.startedAt) : j.status === 'queued' ? 'queued' : age(j.createdAt),
      ],
      cellStyles: [theme.muted(), undefined, undefined, undefined, undefined, theme.jobStatus(j.status), theme.progress()],
    };
  });
  return (
    <Box flexDirection="column">
      <Table columns={COLUMNS} rows={rows} height={height} width={columns} cursor={list.cursor - from} empty={jobs.loading ? 'Loading jobs…' : filter ? `No jobs match ${filter}. esc clears the filter.` : 'No jobs yet. Run a flow (flowdeck flows run) or retry errors (r).'} />
    </Box>
  );
}
