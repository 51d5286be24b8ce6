import { Command } from 'commander';
import { confirm } from '../../src/cli/confirm.js';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';
import { CanceledError, plural } from '../../src/cli/bulk.js';

interface DeleteOptions {
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function tagsDeleteCommand(io: CommandIO): Command {
  return new Command('delete')
    .description('remove a tag from the catalog and from every error carrying it')
    .argument('<tag>', 'tag name or code')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--json', 'print the deleted tag as JSON')
    .action(async (ref: string, opts: DeleteOptions) => {
      await withBackend(io, async (backend) => {
        let target = ref;
        if (opts.dryRun || !opts.yes) {
          // What it would take off which errors, computed exactly and rolled back, to show or ask.
          const would = await backend.triage.deleteTag(ref, { dryRun: true });
          const on = would.numErrorsUntagged > 0 ? ` (removing it from ${plural(would.numErrorsUntagged)})` : '';
          if (opts.dryRun) return print(io, opts.json ? json(would) : `Would delete tag "${would.tag}" (${would.tagId})${on} (dry run, nothing changed).`);
          if (would.numErrorsUntagged > 0 && !(await confirm(io, `Delete tag "${would.tag}"${on}?`, { yes: opts.yes }))) throw new CanceledError();
          target = would.tagId;
        }
        const deleted = await backend.triage.deleteTag(target);
        const untagged = deleted.numErrorsUntagged > 0 ? `, removed from ${plural(deleted.numErrorsUntagged)}` : '';
        print(io, opts.json ? json(deleted) : `Deleted tag "${deleted.tag}" (${deleted.tagId})${untagged}.`);
      });
    });
}
