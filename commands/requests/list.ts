import { Command } from 'commander';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { parsePositiveInt } from '../../src/cli/options.js';
import { assertPageOf, pageTargetOf } from '../../src/cli/paging.js';
import { json, renderTable } from '../../src/cli/output.js';
import { terminalSafe } from '../../src/domain/text.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { resolveTimeValue } from '../../src/domain/query.js';
import type { RequestListParams } from '../../src/backend/contract/index.js';

interface ListOptions {
  timeLte?: number;
  timeGt?: number;
  statusCode?: string;
  method?: string;
  stage?: string;
  limit: number;
  page?: string;
  json?: boolean;
}

/** Epoch ms as the API takes it, or (friendlier at a prompt) an ISO time or 15m / 2h / 7d ago. */
export function parseTimeOption(name: string) {
  return (value: string): number => {
    if (/^\d{10,}$/.test(value.trim())) return Number(value.trim());
    try {
      return resolveTimeValue(value.trim(), Date.now());
    } catch {
      throw new InvalidInputError(`--${name} must be epoch milliseconds, an ISO time or a duration like 15m, got "${value}"`, name);
    }
  };
}

/** `--page` takes a nextPageURL printed by a previous --json call. */
function pageParams(url: string, limit: number): RequestListParams {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://flowdeck.local');
  } catch {
    throw new InvalidInputError(`--page must be a nextPageURL from a previous listing, got "${url}"`, 'page');
  }
  const q = parsed.searchParams;
  const before = q.get('before');
  const timeLte = q.get('time_lte');
  if (!before || !timeLte || !/^\d+$/.test(timeLte)) throw new InvalidInputError(`--page URL has no cursor: "${url}"`, 'page');
  const params: RequestListParams = { before, timeLte: Number(timeLte), pageSize: Number(q.get('pageSize') ?? limit) };
  const timeGt = q.get('time_gt');
  if (timeGt !== null) params.timeGt = Number(timeGt);
  for (const name of ['statusCode', 'method', 'stage'] as const) {
    const v = q.get(name);
    if (v !== null) params[name] = v;
  }
  return params;
}

export function requestsListCommand(io: CommandIO): Command {
  return new Command('list')
    .description("list a step's stored request/response traces, newest first")
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step id or name')
    .option('--time-lte <time>', 'at or before (epoch ms, ISO time, or 15m / 2h / 7d ago)', parseTimeOption('time-lte'))
    .option('--time-gt <time>', 'after (epoch ms, ISO time, or 15m / 2h / 7d ago)', parseTimeOption('time-gt'))
    .option('--status-code <code>', 'HTTP status, e.g. 422')
    .option('--method <method>', 'HTTP method, e.g. POST')
    .option('--stage <stage>', 'where the call was made: export, lookup or import')
    .option('--limit <n>', 'traces per page (1-1000)', parsePositiveInt('limit', 1000), 100)
    .option('--page <nextPageURL>', 'continue from a nextPageURL printed by --json')
    .option('--json', 'print FlowStepRequestsListResponse')
    .action(async (flow: string, step: string, opts: ListOptions) => {
      const params: RequestListParams = opts.page
        ? pageParams(opts.page, opts.limit)
        : {
            pageSize: opts.limit,
            ...(opts.timeLte !== undefined ? { timeLte: opts.timeLte } : {}),
            ...(opts.timeGt !== undefined ? { timeGt: opts.timeGt } : {}),
            ...(opts.statusCode !== undefined ? { statusCode: opts.statusCode } : {}),
            ...(opts.method !== undefined ? { method: opts.method } : {}),
            ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
          };
      await withBackend(io, async (backend) => {
        if (opts.page) {
          assertPageOf(opts.page, await pageTargetOf(backend, flow, step, 'requests'));
        }
        const response = await backend.records.listRequests(flow, step, params);
        if (opts.json) return print(io, json(response));
        if (response.requests.length === 0) return print(io, 'No stored requests match.');
        print(
          io,
          renderTable(
            response.requests,
            [
              { header: 'KEY', value: (r) => r.key },
              { header: 'TIME', value: (r) => new Date(r.time).toISOString() },
              { header: 'METHOD', value: (r) => r.method },
              { header: 'STATUS', value: (r) => r.statusCode || '-' },
              { header: 'STAGE', value: (r) => r.stage },
            ],
            width(io),
          ),
        );
        if (response.nextPageURL) io.stderr.write(terminalSafe(`more: flowdeck requests list ${JSON.stringify(flow)} ${JSON.stringify(step)} --page '${response.nextPageURL}'\n`));
      });
    });
}
