import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';

export function tagsCreateCommand(io: CommandIO): Command {
  return new Command('create')
    .description('add a tag to the catalog')
    .argument('<name>', 'the name errors show, e.g. "Needs review"')
    .option('--code <code>', 'its 5-character short code (default: derived from the name)')
    .option('--json', 'print the new tag as JSON')
    .action(async (name: string, opts: { code?: string; json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const tag = await backend.triage.createTag(name, opts.code);
        print(io, opts.json ? json(tag) : `Created tag "${tag.tag}" (code ${tag.tagId}).`);
      });
    });
}
