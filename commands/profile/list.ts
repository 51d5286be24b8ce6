import { Command } from 'commander';
import { print, type CommandIO } from '../../src/cli/context.js';
import { json, renderTable } from '../../src/cli/output.js';
import { overrideNote, profileEntries } from '../../src/cli/profile-rules.js';

export function profileListCommand(io: CommandIO): Command {
  return new Command('list')
    .description('list the profiles (the current one marked *); tokens show only as env $VAR or their last 4 characters')
    .option('--json', 'print the profiles as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { readProfiles } = await import('../../src/cli/profiles.js');
      const file = readProfiles(io.env);
      const entries = profileEntries(file);
      if (opts.json) return print(io, json(entries));
      print(
        io,
        renderTable(entries, [
          { header: '', value: (p) => (p.current ? '*' : '') },
          { header: 'NAME', value: (p) => p.name },
          { header: 'URL', value: (p) => p.url ?? '(the local workspace)' },
          { header: 'TOKEN', value: (p) => p.token ?? '-' },
        ]),
      );
      const note = overrideNote(file, io.env);
      if (note) io.stderr.write(`flowdeck: ${note}\n`);
    });
}
