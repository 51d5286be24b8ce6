import { Command } from 'commander';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { addFilterOptions, queryTextFromOptions, type FilterOptions } from '../../src/cli/filters.js';
import { parseChoice, parsePositiveInt } from '../../src/cli/options.js';
import { formatAge, formatCount, json, renderTable, type Column } from '../../src/cli/output.js';
import type { ErrorGroup } from '../../src/backend/contract/index.js';

interface GroupsOptions extends FilterOptions {
  sort: 'count' | 'newest';
  limit: number;
  resolved?: boolean;
  json?: boolean;
}

export function formatShare(share: number): string {
  return `${(share * 100).toFixed(share >= 0.1 ? 0 : 1)}%`;
}

export function errorsGroupsCommand(io: CommandIO): Command {
  const command = new Command('groups')
    .description("open (or resolved) errors grouped by signature (step, code, source, class and the message's template), largest first")
    .argument('<flow>', 'flow id or name')
    .argument('[step]', 'one step (export or import) id or name; every step of the flow without it')
    .option('--sort <order>', 'count (largest first) or newest (most recent error first)', parseChoice('sort', ['count', 'newest'] as const), 'count')
    .option('--limit <n>', 'groups shown (1-1000)', parsePositiveInt('limit', 1000), 50)
    .option('--resolved', "the resolved errors' groups instead of the open ones'")
    .option('--json', 'print the groups as JSON ({groups, total, numGroups, newSince})');
  addFilterOptions(command);
  command.addHelpText(
    'after',
    `
A group's errors are selected by its sig in every bulk command and listing:
  flowdeck errors retry <flow> <step> --query 'sig:<sig>'   (also resolve, assign, tag, export, list)
NEW marks groups first recorded since --since (or a since: term), else since the flow's last run.`,
  );
  return command.action(async (flow: string, step: string | undefined, opts: GroupsOptions) => {
    const query = queryTextFromOptions(opts);
    await withBackend(io, async (backend) => {
      const response = await backend.errorGroups(flow, step, { ...(query ? { query } : {}), sort: opts.sort, limit: opts.limit, ...(opts.resolved ? { resolved: true } : {}) });
      if (opts.json) return print(io, json(response));
      const state = opts.resolved ? 'resolved' : 'open';
      if (response.groups.length === 0) return print(io, query ? `No ${state} errors match "${query}".` : step ? `No ${state} errors on this step.` : `No ${state} errors in this flow.`);
      const columns: Column<ErrorGroup>[] = [
        { header: 'NEW', value: (g) => (g.new ? 'new' : '') },
        { header: 'COUNT', value: (g) => formatCount(g.count), align: 'right' },
        { header: 'SHARE', value: (g) => formatShare(g.share), align: 'right' },
        ...(step === undefined ? [{ header: 'STEP', value: (g: ErrorGroup) => g.stepName }] : []),
        { header: 'CODE', value: (g) => g.code },
        { header: 'CLASS', value: (g) => g.classification ?? '-' },
        { header: 'TEMPLATE', value: (g) => g.template, flex: true },
        { header: 'LAST SEEN', value: (g) => formatAge(g.lastSeenAt) },
        { header: 'FIRST SEEN', value: (g) => formatAge(g.firstSeenAt) },
        { header: 'SIG', value: (g) => g.sig },
      ];
      const shown = response.groups.length < response.numGroups ? ` (the ${formatCount(response.groups.length)} ${opts.sort === 'count' ? 'largest' : 'newest'} shown)` : '';
      const since = response.newSince ? ` · new: first seen since ${response.newSince}` : '';
      print(io, `${formatCount(response.total)} errors in ${formatCount(response.numGroups)} groups${shown}${since}`);
      print(io, renderTable(response.groups, columns, width(io)));
    });
  });
}
