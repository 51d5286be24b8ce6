import { Command, Option } from 'commander';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { parsePositiveInt } from '../../src/cli/options.js';
import { json, renderTable } from '../../src/cli/output.js';
import type { FlowJobLogChildrenResponse } from '../../src/domain/api.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { formatTook, LOG_STATUSES } from './list.js';
import type { LogStatusFilter } from '../../src/backend/contract/index.js';

type Child = FlowJobLogChildrenResponse['children'][number];

function offsetOf(url: string): number {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://flowdeck.local');
  } catch {
    throw new InvalidInputError(`--page must be a nextPageUrl or prevPageUrl, got "${url}"`, 'page');
  }
  const offset = parsed.searchParams.get('offset');
  if (offset === null || !/^\d+$/.test(offset)) throw new InvalidInputError(`--page URL has no offset: "${url}"`, 'page');
  return Number(offset);
}

export function logsChildrenCommand(io: CommandIO): Command {
  return new Command('children')
    .description('list the child records a record spawned at a step (fan-out, batch items)')
    .argument('<flow>', 'flow id or name')
    .argument('<job>', 'flow job id')
    .argument('<step>', 'step id or name')
    .argument('<recordId>', 'the parent recordId')
    .addOption(new Option('--status <status>', 'only children with this outcome').choices(LOG_STATUSES))
    .option('--limit <n>', 'children per page (1-1000)', parsePositiveInt('limit', 1000), 100)
    .option('--page <url>', 'continue from a nextPageUrl or prevPageUrl printed by --json')
    .option('--json', 'print FlowJobLogChildrenResponse')
    .action(async (flow: string, job: string, step: string, recordId: string, opts: { status?: LogStatusFilter; limit: number; page?: string; json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const response = await backend.records.logChildren(flow, job, step, recordId, {
          pageSize: opts.limit,
          ...(opts.status ? { status: opts.status } : {}),
          ...(opts.page ? { offset: offsetOf(opts.page) } : {}),
        });
        if (opts.json) return print(io, json(response));
        if (response.children.length === 0) return print(io, `Record ${recordId} has no child records at this step.`);
        print(
          io,
          renderTable(
            response.children,
            [
              { header: 'STARTED', value: (c: Child) => c.startedAt ?? '-' },
              { header: 'RECORD', value: (c: Child) => c.recordId },
              { header: 'TRACE KEY', value: (c: Child) => c.traceKey ?? '-' },
              { header: 'STATUS', value: (c: Child) => c.status },
              { header: 'TOOK', value: (c: Child) => formatTook(c.timeTaken), align: 'right' },
            ],
            width(io),
          ),
        );
      });
    });
}
