import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { formatCount, json, renderTable } from '../../src/cli/output.js';

export function tagsListCommand(io: CommandIO): Command {
  return new Command('list')
    .description('list the tags and how many errors carry each')
    .option('--json', 'print the tags as JSON ({tagId, tag, createdAt, numOpenError, numResolved})')
    .action(async (opts: { json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const tags = await backend.triage.listTags();
        if (opts.json) return print(io, json(tags));
        if (tags.length === 0) return print(io, 'No tags yet: flowdeck tags create <name>');
        print(
          io,
          renderTable(tags, [
            { header: 'CODE', value: (t) => t.tagId },
            { header: 'TAG', value: (t) => t.tag },
            { header: 'OPEN', value: (t) => formatCount(t.numOpenError), align: 'right' },
            { header: 'RESOLVED', value: (t) => formatCount(t.numResolved), align: 'right' },
          ]),
        );
      });
    });
}
