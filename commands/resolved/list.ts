import { Command } from 'commander';
import { errorCoreColumns } from '../../src/cli/error-columns.js';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { addFilterOptions, queryTextFromOptions, type FilterOptions } from '../../src/cli/filters.js';
import { parsePositiveInt } from '../../src/cli/options.js';
import { assertPageOf, pageTargetOf, pageParams } from '../../src/cli/paging.js';
import { formatAge, json, renderTable, type Column } from '../../src/cli/output.js';
import { terminalSafe } from '../../src/domain/text.js';
import type { ResolvedFlowStepError } from '../../src/domain/api.js';

interface ListOptions extends FilterOptions {
  limit: number;
  page?: string;
  json?: boolean;
}

export const resolvedColumns: Column<ResolvedFlowStepError>[] = [
  { header: 'RESOLVED AT', value: (e) => formatAge(e.resolvedAt) },
  { header: 'RESOLVED BY', value: (e) => e.resolvedBy ?? '-' },
  ...errorCoreColumns,
];

export function resolvedListCommand(io: CommandIO): Command {
  const command = new Command('list')
    .description("list a step's resolved errors, newest first")
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step (export or import) id or name')
    .option('--limit <n>', 'errors per page (1-1000)', parsePositiveInt('limit', 1000), 100)
    .option('--page <nextPageURL>', 'continue from a nextPageURL printed by --json')
    .option('--json', 'print FlowStepResolvedResponse');
  addFilterOptions(command);
  return command.action(async (flow: string, step: string, opts: ListOptions) => {
    const query = queryTextFromOptions(opts);
    await withBackend(io, async (backend) => {
      // A nextPageURL carries its page size; an explicit --limit overrides it.
      const limitGiven = command.getOptionValueSource('limit') === 'cli';
      if (opts.page) {
        assertPageOf(opts.page, await pageTargetOf(backend, flow, step, 'resolved'));
      }
      const params = opts.page ? { ...pageParams(opts.page), ...(limitGiven ? { limit: opts.limit } : {}) } : { query, limit: opts.limit };
      const response = await backend.triage.listResolved(flow, step, params);
      if (opts.json) return print(io, json(response));
      if (response.resolved.length === 0) return print(io, query ? `No resolved errors match "${query}".` : 'No resolved errors on this step.');
      print(io, renderTable(response.resolved, resolvedColumns, width(io)));
      if (response.nextPageURL) io.stderr.write(terminalSafe(`more: flowdeck resolved list ${JSON.stringify(flow)} ${JSON.stringify(step)} --page '${response.nextPageURL}'\n`));
    });
  });
}
