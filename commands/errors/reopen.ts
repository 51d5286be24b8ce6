import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { selectionFromOptions, type SelectionOptions } from '../../src/cli/selection.js';
import { addResolvedSelectionOptions, runBulk } from '../../src/cli/bulk.js';

export function errorsReopenCommand(io: CommandIO): Command {
  const command = new Command('reopen')
    .description('move resolved errors back to the open list')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step (export or import) id or name')
    .argument('[ids...]', 'errorIds or retryDataKeys of resolved errors to reopen (or --all, or filters)');
  addResolvedSelectionOptions(command);
  return command.action(async (flow: string, step: string, ids: string[], opts: SelectionOptions) => {
    await runBulk(
      io,
      {
        verb: 'Reopen',
        done: 'Reopened',
        state: 'resolved',
        destructive: false,
        noContent: false,
        run: (backend, selection, options) => backend.triage.reopen(flow, step, selection, options),
        meanwhile: 'reopened or deleted meanwhile',
        ids: (r) => r.errorsToReturn,
      },
      selectionFromOptions(ids, opts),
      opts,
    );
  });
}
