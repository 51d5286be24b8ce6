import { Command } from 'commander';
import { runBulk } from '../../src/cli/bulk.js';
import type { CommandIO } from '../../src/cli/context.js';
import { addSelectionOptions, selectionFromOptions, type SelectionOptions } from '../../src/cli/selection.js';

export function errorsResolveCommand(io: CommandIO): Command {
  const command = new Command('resolve')
    .description('move open errors to the resolved list (asks first; --yes to skip)')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step (export or import) id or name')
    .argument('[ids...]', 'errorIds or retryDataKeys to resolve (or --all, or filters)');
  addSelectionOptions(command);
  return command.action(async (flow: string, step: string, ids: string[], opts: SelectionOptions) => {
    await runBulk(
      io,
      {
        verb: 'Resolve',
        done: 'Resolved',
        state: 'open',
        destructive: true,
        noContent: true,
        run: (backend, selection, options) => backend.triage.resolve(flow, step, selection, options),
        meanwhile: 'resolved meanwhile',
        ids: (r) => r.errorsToReturn,
      },
      selectionFromOptions(ids, opts),
      opts,
    );
  });
}
