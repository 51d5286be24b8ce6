import { Command } from 'commander';
import { confirm } from '../../src/cli/confirm.js';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { formatCount, json } from '../../src/cli/output.js';
import { NotFoundError } from '../../src/domain/errors.js';

interface DeleteOptions {
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function requestsDeleteCommand(io: CommandIO): Command {
  return new Command('delete')
    .description('permanently delete stored request/response traces (the errors stay, without their trace)')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step id or name')
    .argument('<keys...>', 'reqAndResKeys to delete')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'show what would be deleted, delete nothing')
    .option('--json', 'print FlowStepRequestsDeleteResponse')
    .action(async (flow: string, step: string, keys: string[], opts: DeleteOptions) => {
      await withBackend(io, async (backend) => {
        const records = backend.records;
        // Every key must exist before anything is deleted: a typo never half-applies.
        const preview = await records.deleteRequests(flow, step, keys, { dryRun: true });
        if (preview.errors.length > 0) {
          const unknown = preview.errors.map((e) => String(e.key));
          throw new NotFoundError(`request trace${unknown.length === 1 ? '' : 's'}`, `${unknown.join(', ')} (nothing deleted)`, 'file_not_found');
        }
        const n = preview.deleted.length;
        if (opts.dryRun) return print(io, opts.json ? json(preview) : `Would delete ${formatCount(n)} request trace${n === 1 ? '' : 's'}.`);
        if (!(await confirm(io, `Delete ${formatCount(n)} request trace${n === 1 ? '' : 's'}?`, { yes: opts.yes }))) {
          io.stderr.write('Nothing deleted.\n');
          return;
        }
        const result = await records.deleteRequests(flow, step, keys);
        print(io, opts.json ? json(result) : `Deleted ${formatCount(result.deleted.length)} request trace${result.deleted.length === 1 ? '' : 's'}.`);
      });
    });
}
