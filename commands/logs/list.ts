import { Command, Option } from 'commander';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { parsePositiveInt } from '../../src/cli/options.js';
import { json, renderTable } from '../../src/cli/output.js';
import { terminalSafe } from '../../src/domain/text.js';
import type { ExecutionLogEntry } from '../../src/domain/api.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import type { Backend, LogListParams, LogStatusFilter } from '../../src/backend/contract/index.js';

interface ListOptions {
  status?: LogStatusFilter;
  step?: string[];
  traceKey?: string;
  sort: 'asc' | 'desc';
  limit: number;
  page?: string;
  json?: boolean;
}

export const LOG_STATUSES = ['success', 'error', 'ignore'] as const;

/** Step id → name, for tables (entries carry ids). */
export async function stepNames(backend: Backend, flow: string): Promise<Map<string, string>> {
  const info = await backend.getFlow(flow);
  return new Map(info.steps.map((s) => [s._id, s.name]));
}

export function formatTook(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** `--page` takes a nextPageUrl or prevPageUrl printed by --json. */
function pageParams(url: string): LogListParams {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://flowdeck.local');
  } catch {
    throw new InvalidInputError(`--page must be a nextPageUrl or prevPageUrl from a previous listing, got "${url}"`, 'page');
  }
  const q = parsed.searchParams;
  const params: LogListParams = {};
  const next = q.get('next');
  const prev = q.get('prev');
  if (next) params.next = next;
  else if (prev) params.prev = prev;
  else throw new InvalidInputError(`--page URL has no next or prev cursor: "${url}"`, 'page');
  const size = q.get('pageSize');
  if (size) params.pageSize = Number(size);
  const sort = q.get('sortOrder');
  if (sort === 'asc' || sort === 'desc') params.sortOrder = sort;
  const status = q.get('status');
  if (status) params.status = status as LogStatusFilter;
  const steps = q.get('_expOrImpId');
  if (steps) params.stepRefs = steps.split(',');
  const prefix = q.get('traceKeyPrefix');
  if (prefix) params.traceKeyPrefix = prefix;
  return params;
}

export function logsListCommand(io: CommandIO): Command {
  return new Command('list')
    .description('list the execution-log entries of a flow run: one per record at each step')
    .argument('<flow>', 'flow id or name')
    .argument('<job>', 'flow job id (a child step job stands for its run)')
    .addOption(new Option('--status <status>', 'only entries with this outcome').choices(LOG_STATUSES))
    .option('--step <step>', 'only entries of this step (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--trace-key <prefix>', 'only entries whose traceKey starts with this')
    .addOption(new Option('--sort <order>', 'by start time').choices(['asc', 'desc']).default('desc'))
    .option('--limit <n>', 'entries per page (1-1000)', parsePositiveInt('limit', 1000), 100)
    .option('--page <url>', 'continue from a nextPageUrl or prevPageUrl printed by --json')
    .option('--json', 'print ExecutionLogsResponse')
    .action(async (flow: string, job: string, opts: ListOptions) => {
      const params: LogListParams = opts.page
        ? pageParams(opts.page)
        : {
            sortOrder: opts.sort,
            pageSize: opts.limit,
            ...(opts.status ? { status: opts.status } : {}),
            ...(opts.step ? { stepRefs: opts.step } : {}),
            ...(opts.traceKey !== undefined ? { traceKeyPrefix: opts.traceKey } : {}),
          };
      await withBackend(io, async (backend) => {
        const response = await backend.records.listLogs(flow, job, params);
        if (opts.json) return print(io, json(response));
        if (response.logs.length === 0) return print(io, 'No execution-log entries match (logs are kept for flows with logging: {mode: full}).');
        const names = await stepNames(backend, flow);
        print(
          io,
          renderTable(
            response.logs,
            [
              { header: 'STARTED', value: (e: ExecutionLogEntry) => e.startedAt ?? '-' },
              { header: 'STEP', value: (e: ExecutionLogEntry) => names.get(e._expOrImpId) ?? e._expOrImpId },
              { header: 'RECORD', value: (e: ExecutionLogEntry) => e.recordId },
              { header: 'TRACE KEY', value: (e: ExecutionLogEntry) => e.traceKey ?? '-' },
              { header: 'STATUS', value: (e: ExecutionLogEntry) => e.status },
              { header: 'TOOK', value: (e: ExecutionLogEntry) => formatTook(e.timeTaken), align: 'right' },
            ],
            width(io),
          ),
        );
        if (response.nextPageUrl) io.stderr.write(terminalSafe(`more: flowdeck logs list ${JSON.stringify(flow)} ${JSON.stringify(job)} --page '${response.nextPageUrl}'\n`));
      });
    });
}
