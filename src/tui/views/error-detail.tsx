import { Box, Text } from 'ink';
import type { ExecutionLogMetadataResponse, FlowStepRequestResponse, FlowStepRetryData, ResolvedFlowStepError } from '../../domain/api.js';
import { assignErrors, editSnapshot, reopenErrors, resolveErrors, retryErrors, tagErrors, type ActionContext, type Target } from '../actions.js';
import { failureMessage, type TuiBackend } from '../backend.js';
import { TextPage } from '../components/table.js';
import { useUIActions, useUIState } from '../context.js';
import { age, cut, displayable, prettyText, shortTime, wrapLine } from '../format.js';
import { useCommands, useDataRefresh, useListWindow, useLoad } from '../hooks.js';
import type { Command } from '../keys.js';
import { listMotion } from '../state/list.js';
import type { Route } from '../state/nav.js';
import { rowIdOf } from '../state/error-window.js';
import type { Style, Theme } from '../theme.js';
import type { ErrorDetail } from '../../backend/contract/index.js';

// One error in full: the message (pretty JSON when it is JSON), the retry-data snapshot, the masked
// request and response, its history (other errors of the same retry data, open and resolved) and
// the execution-log trace of its record. A scrollable page; the triage keys act on this error.

type DetailRoute = Extract<Route, { view: 'error' }>;

export interface ErrorPage {
  detail: ErrorDetail;
  retryData?: FlowStepRetryData | string;
  request?: FlowStepRequestResponse | string;
  history: Array<ResolvedFlowStepError & { state: 'open' | 'resolved' }>;
  trace?: { jobId: string; meta: ExecutionLogMetadataResponse; stepNames: Map<string, string> } | string;
}

const HISTORY_LIMIT = 50;

async function orMessage<T>(work: () => Promise<T>): Promise<T | string> {
  try {
    return await work();
  } catch (e) {
    return failureMessage(e);
  }
}

export async function loadErrorPage(backend: TuiBackend, route: DetailRoute): Promise<ErrorPage> {
  const detail = await backend.triage.getError(route.errorId);
  const e = detail.error;
  const flowId = detail.flowId;
  const stepId = detail.stepId;
  const [retryData, request, history, trace] = await Promise.all([
    e.retryDataKey ? orMessage(() => backend.records.getRetryData(flowId, stepId, e.retryDataKey!)) : Promise.resolve(undefined),
    e.reqAndResKey ? orMessage(() => backend.records.getRequest(flowId, stepId, e.reqAndResKey!)) : Promise.resolve(undefined),
    e.retryDataKey
      ? (async () => {
          const query = `rdk:${e.retryDataKey}`;
          const [open, resolved] = await Promise.all([
            backend.listErrors(flowId, stepId, { query, limit: HISTORY_LIMIT }),
            backend.triage.listResolved(flowId, stepId, { query, limit: HISTORY_LIMIT }),
          ]);
          return [
            ...open.errors.map((x) => ({ ...x, state: 'open' as const })),
            ...resolved.resolved.map((x) => ({ ...x, state: 'resolved' as const })),
          ]
            .filter((x) => x.errorId !== e.errorId)
            .sort((a, b) => rowIdOf(b.errorId) - rowIdOf(a.errorId));
        })().catch(() => [])
      : Promise.resolve([]),
    e._flowJobId && e.traceKey
      ? orMessage(async () => {
          const jobId = e._flowJobId!;
          const logs = await backend.records.listLogs(flowId, jobId, { stepRefs: [stepId], traceKeyPrefix: e.traceKey!, pageSize: 20 });
          const entry = logs.logs.find((l) => l.traceKey === e.traceKey) ?? logs.logs[0];
          if (!entry) return 'no execution log entry for this record';
          const meta = await backend.records.logMetadata(flowId, jobId, {
            _expOrImpId: entry._expOrImpId,
            groupId: entry.groupId,
            recordId: entry.recordId,
            ...(entry.traceKey ? { traceKey: entry.traceKey } : {}),
          });
          const flow = await backend.getFlow(flowId);
          return { jobId, meta, stepNames: new Map(flow.steps.map((s) => [s._id, s.name])) };
        })
      : Promise.resolve(undefined),
  ]);
  const page: ErrorPage = { detail, history };
  if (retryData !== undefined) page.retryData = retryData;
  if (request !== undefined) page.request = request;
  if (trace !== undefined) page.trace = trace;
  return page;
}

interface Line {
  text: string;
  style?: Style;
}

function section(theme: Theme, title: string): Line[] {
  return [{ text: '' }, { text: `── ${title} ──`, style: theme.heading() }];
}

/** Indented text, wrapped to the width (continuation lines indented one more step). */
function block(text: string, width: number): Line[] {
  return text.split('\n').flatMap((l) => {
    const indent = /^\s*/.exec(l)![0];
    return wrapLine(l, width - 4 - indent.length).map((piece, i) => ({ text: `  ${i === 0 ? piece : `${indent}  ${piece.trimStart()}`}` }));
  });
}

export function errorPageLines(page: ErrorPage, theme: Theme, width: number): Line[] {
  const { detail } = page;
  const e = detail.error;
  const lines: Line[] = [];
  const at = (iso: string | undefined) => (iso ? `${iso} (${age(iso)})` : '-');
  lines.push({ text: `Error ${e.errorId} · ${detail.resolved ? 'resolved' : 'open'} · ${detail.flowName} › ${detail.stepName}`, style: { bold: true } });
  const facts: Array<[string, string | undefined]> = [
    ['Occurred', at(e.occurredAt)],
    ['Code', e.code],
    ['Source', e.source],
    ['Class', e.classification ? `${e.classification}${e.classifiedBy ? ` (by ${e.classifiedBy})` : ''}` : undefined],
    ['Record', e.oIndex !== undefined ? `#${e.oIndex}` : undefined],
    ['Trace key', e.traceKey],
    ['Job', e._flowJobId],
    ['Retry data', e.retryDataKey ?? 'none (a connection failure: run the flow again to recover it)'],
    ['Request', e.reqAndResKey],
    ['Retry at', e.retryAt ? at(e.retryAt) : undefined],
    ['Tags', e.tags && e.tags.length ? e.tags.join(', ') : '-'],
    ['Assignee', e.assignedTo ? `${e.assignedTo}${e.assignedBy ? ` (by ${e.assignedBy})` : ''}` : '-'],
    ['Resolved', detail.resolved ? `${at(e.resolvedAt)}${e.resolvedBy ? ` by ${e.resolvedBy}` : ''}` : undefined],
  ];
  for (const [k, v] of facts) if (v !== undefined) lines.push({ text: `${`${k}:`.padEnd(12)}${v}` });

  lines.push(...section(theme, 'Message'), ...block(prettyText(e.message), width));

  lines.push(...section(theme, 'Retry data (snapshot)'));
  if (page.retryData === undefined) lines.push({ text: '  none', style: theme.muted() });
  else if (typeof page.retryData === 'string') lines.push({ text: `  ${page.retryData}`, style: theme.message('error') });
  else lines.push(...block(JSON.stringify(page.retryData, null, 2), width));

  lines.push(...section(theme, 'Request and response (secrets masked)'));
  if (page.request === undefined) lines.push({ text: '  none captured', style: theme.muted() });
  else if (typeof page.request === 'string') lines.push({ text: `  ${page.request}`, style: theme.message('error') });
  else {
    const { request, response } = page.request;
    lines.push({ text: `  ${request.method ?? '?'} ${request.url ?? ''}`, style: { bold: true } });
    for (const [k, v] of Object.entries(request.headers ?? {})) lines.push({ text: `  ${k}: ${v}`, style: theme.muted() });
    if (request.body) lines.push(...block(prettyText(request.body), width));
    lines.push({ text: '' }, { text: `  → ${response.statusCode ?? 'no response'}`, style: { bold: true } });
    for (const [k, v] of Object.entries(response.headers ?? {})) lines.push({ text: `  ${k}: ${v}`, style: theme.muted() });
    if (response.body) lines.push(...block(prettyText(response.body), width));
  }

  lines.push(...section(theme, `History: other errors of the same retry data${page.history.length >= HISTORY_LIMIT ? ` (newest ${HISTORY_LIMIT})` : ''}`));
  if (!e.retryDataKey) lines.push({ text: '  none (no retry data)', style: theme.muted() });
  else if (page.history.length === 0) lines.push({ text: '  none: this is the only error of its record', style: theme.muted() });
  for (const h of page.history) {
    const gist = `${h.state === 'resolved' ? `resolved ${age(h.resolvedAt)}${h.resolvedBy ? ` by ${h.resolvedBy}` : ''}` : 'open'}`;
    lines.push({ text: cut(`  ${shortTime(h.occurredAt)}  ${h.errorId}  ${h.code.padEnd(4)} ${gist}  ${h.message.replace(/\s+/g, ' ')}`, width) });
  }

  lines.push(...section(theme, 'Execution log'));
  if (page.trace === undefined) lines.push({ text: '  none (no job or trace key)', style: theme.muted() });
  else if (typeof page.trace === 'string') lines.push({ text: `  ${page.trace}`, style: theme.muted() });
  else {
    const { meta, stepNames, jobId } = page.trace;
    lines.push({ text: `  job ${jobId}${meta.traceView ? ` · trace ${meta.traceKey} across ${meta.steps.length} steps` : ''} (l opens the job's logs)`, style: theme.muted() });
    for (const s of meta.steps) {
      lines.push({
        text: cut(`  ${(stepNames.get(s._expOrImpId) ?? s._expOrImpId).padEnd(24)} ${s.status.padEnd(8)} ${(s.stage ?? '-').padEnd(10)} ${s.timeTaken !== undefined ? `${s.timeTaken} ms` : ''}  ${s.recordId}`, width),
        style: s.status === 'error' ? theme.message('error') : {},
      });
    }
  }
  // Headers, URLs, tags and names come from targets and operators: no control character reaches the terminal.
  return lines.map((l) => ({ ...l, text: displayable(l.text) }));
}

export function ErrorDetailView({ route }: { route: DetailRoute }) {
  const ui = useUIState();
  const actions = useUIActions();
  const { backend, theme, bodyHeight, columns } = ui;
  const page = useLoad(() => loadErrorPage(backend, route), [route.errorId]);
  useDataRefresh(page.reload);
  const lines = page.data ? errorPageLines(page.data, theme, columns) : [];
  const [list, dispatch] = useListWindow(lines.length, bodyHeight, 'scroll');

  const detail = page.data?.detail;
  const e = detail?.error;
  const ctx: ActionContext = { backend, ui: actions };
  const target = (): Target | undefined =>
    detail ? { flowId: detail.flowId, stepId: detail.stepId, stepName: detail.stepName, selection: { errorIds: [detail.error.errorId] }, tab: detail.resolved ? 'resolved' : 'open', count: 1 } : undefined;
  const run = (work: () => Promise<unknown>) => void work().catch((err: unknown) => actions.fail(err));

  const handle = (command: Command) => {
    const t = target();
    const motion = listMotion(command);
    if (motion) return dispatch(motion);
    switch (command) {
      case 'refresh':
        return page.reload();
      case 'resolve':
        if (t) run(() => resolveErrors(ctx, t));
        return;
      case 'reopen':
        if (t) run(() => reopenErrors(ctx, t));
        return;
      case 'retry':
      case 'retryBackoff':
        if (t && e) run(() => retryErrors(ctx, t, command === 'retryBackoff', rowIdOf(e.errorId)));
        return;
      case 'assign':
        if (t) run(() => assignErrors(ctx, t));
        return;
      case 'tags':
        if (t && e) run(() => tagErrors(ctx, t, [e.tags]));
        return;
      case 'edit':
        if (detail && e) run(() => editSnapshot(ctx, detail.flowId, detail.stepId, e.errorId, e.retryDataKey));
        return;
      case 'logs':
        if (!detail || !e) return;
        if (!e._flowJobId) return actions.info('This error belongs to no job: no logs.');
        actions.push({ view: 'job', jobId: e._flowJobId, flowId: detail.flowId, flowName: detail.flowName, ...(e.traceKey ? { traceKey: e.traceKey } : {}) });
        return;
    }
  };
  const info = lines.length > bodyHeight ? `lines ${list.offset + 1}-${Math.min(lines.length, list.offset + bodyHeight)} of ${lines.length}` : undefined;
  useCommands('error', { open: detail ? !detail.resolved : true }, handle, info);

  if (page.error && !page.data) return <Text {...theme.message('error')}>{page.error}</Text>;
  if (!page.data) return <Text {...theme.muted()}>Loading error {route.errorId}…</Text>;
  return (
    <Box flexDirection="column">
      <TextPage lines={lines} offset={list.offset} height={bodyHeight} width={columns} />
    </Box>
  );
}
