import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { addSelectionOptions, selectionFromOptions, type SelectionOptions } from '../../src/cli/selection.js';
import { runBulk } from '../../src/cli/bulk.js';

export function errorsUnassignCommand(io: CommandIO): Command {
  const command = new Command('unassign')
    .description('clear the assignee of open errors')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step (export or import) id or name')
    .argument('[ids...]', 'errorIds or retryDataKeys to unassign (or --all, or filters)');
  addSelectionOptions(command);
  return command.action(async (flow: string, step: string, ids: string[], opts: SelectionOptions) => {
    await runBulk(
      io,
      {
        verb: 'Unassign',
        done: 'Unassigned',
        state: 'open',
        destructive: false,
        noContent: false,
        run: (backend, selection, options) => backend.triage.unassign(flow, step, selection, options),
        ids: (r) => r.errorsToReturn,
      },
      selectionFromOptions(ids, opts),
      opts,
    );
  });
}
