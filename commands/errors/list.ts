import { Command } from 'commander';
import type { Backend } from '../../src/backend/contract/index.js';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { addFilterOptions, queryTextFromOptions, type FilterOptions } from '../../src/cli/filters.js';
import { parsePositiveInt } from '../../src/cli/options.js';
import { assertPageOf, pageTargetOf, pageParams } from '../../src/cli/paging.js';
import { errorColumns } from '../../src/cli/error-columns.js';
import { json, renderTable } from '../../src/cli/output.js';
import { terminalSafe } from '../../src/domain/text.js';

interface ListOptions extends FilterOptions {
  limit: number;
  page?: string;
  all?: boolean;
  json?: boolean;
}


async function streamAll(io: CommandIO, backend: Backend, flow: string, step: string, query: string, asJson: boolean): Promise<void> {
  // Walks every page without holding them all: one JSON document written as it goes.
  let before: string | undefined;
  let first = true;
  if (asJson) io.stdout.write('{\n  "errors": [');
  for (;;) {
    const page = await backend.listErrors(flow, step, { query, limit: 1000, ...(before ? { before } : {}) });
    for (const error of page.errors) {
      if (asJson) io.stdout.write(`${first ? '\n' : ',\n'}    ${terminalSafe(JSON.stringify(error))}`);
      else io.stdout.write(`${terminalSafe(JSON.stringify(error))}\n`);
      first = false;
    }
    const last = page.errors[page.errors.length - 1];
    if (!page.nextPageURL || !last) break;
    before = last.errorId;
  }
  if (asJson) io.stdout.write(`${first ? '' : '\n  '}]\n}\n`);
}

export function errorsListCommand(io: CommandIO): Command {
  const command = new Command('list')
    .description("list a step's open errors, newest first")
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step (export or import) id or name')
    .option('--limit <n>', 'errors per page (1-1000)', parsePositiveInt('limit', 1000), 100)
    .option('--page <nextPageURL>', 'continue from a nextPageURL printed by --json')
    .option('--all', 'walk every page (JSON lines, or one JSON document with --json)')
    .option('--json', 'print FlowStepErrorsResponse');
  addFilterOptions(command);
  return command.action(async (flow: string, step: string, opts: ListOptions) => {
    const query = queryTextFromOptions(opts);
    await withBackend(io, async (backend) => {
      if (opts.all) return streamAll(io, backend, flow, step, query, opts.json === true);
      // A nextPageURL carries its page size; an explicit --limit overrides it.
      const limitGiven = command.getOptionValueSource('limit') === 'cli';
      if (opts.page) {
        assertPageOf(opts.page, await pageTargetOf(backend, flow, step, 'errors'));
      }
      const params = opts.page ? { ...pageParams(opts.page), ...(limitGiven ? { limit: opts.limit } : {}) } : { query, limit: opts.limit };
      const response = await backend.listErrors(flow, step, params);
      if (opts.json) return print(io, json(response));
      if (response.errors.length === 0) return print(io, query ? `No open errors match "${query}".` : 'No open errors on this step.');
      print(io, renderTable(response.errors, errorColumns, width(io)));
      if (response.nextPageURL) io.stderr.write(terminalSafe(`more: flowdeck errors list ${JSON.stringify(flow)} ${JSON.stringify(step)} --page '${response.nextPageURL}'\n`));
    });
  });
}
