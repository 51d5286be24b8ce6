import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { addSelectionOptions, selectionFromOptions, type SelectionOptions } from '../../src/cli/selection.js';
import { runBulk } from '../../src/cli/bulk.js';

interface AssignOptions extends SelectionOptions {
  to: string;
}

export function errorsAssignCommand(io: CommandIO): Command {
  const command = new Command('assign')
    .description('assign open errors to someone by email (any address; unknown ones are kept verbatim)')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step (export or import) id or name')
    .argument('[ids...]', 'errorIds or retryDataKeys to assign (or --all, or filters)')
    .requiredOption('--to <email>', 'the assignee\'s email, or "me"');
  addSelectionOptions(command);
  return command.action(async (flow: string, step: string, ids: string[], opts: AssignOptions) => {
    const to = opts.to.trim();
    await runBulk(
      io,
      {
        verb: 'Assign',
        done: 'Assigned',
        state: 'open',
        destructive: false,
        noContent: false,
        suffix: `to ${to === 'me' ? 'you' : to}`,
        run: (backend, selection, options) => backend.triage.assign(flow, step, selection, to, options),
        meanwhile: 'resolved or changed meanwhile',
        ids: (r) => r.errorsToReturn,
      },
      selectionFromOptions(ids, opts),
      opts,
    );
  });
}

