import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { selectionFromOptions, type SelectionOptions } from '../../src/cli/selection.js';
import { addResolvedSelectionOptions, runBulk } from '../../src/cli/bulk.js';

export function resolvedDeleteCommand(io: CommandIO): Command {
  const command = new Command('delete')
    .description('permanently delete resolved errors with their request traces (asks first; --yes to skip)')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step (export or import) id or name')
    .argument('[ids...]', 'errorIds or retryDataKeys of resolved errors to delete (or --all, or filters)');
  addResolvedSelectionOptions(command);
  return command.action(async (flow: string, step: string, ids: string[], opts: SelectionOptions) => {
    await runBulk(
      io,
      {
        verb: 'Permanently delete',
        done: 'Deleted',
        state: 'resolved',
        destructive: true,
        noContent: true,
        run: (backend, selection, options) => backend.triage.deleteResolved(flow, step, selection, options),
        meanwhile: 'reopened or deleted meanwhile',
        ids: (r) => r.errorsToReturn,
      },
      selectionFromOptions(ids, opts),
      opts,
    );
  });
}
