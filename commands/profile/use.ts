import { Command } from 'commander';
import { print, type CommandIO } from '../../src/cli/context.js';
import { overrideNote } from '../../src/cli/profile-rules.js';

export function profileUseCommand(io: CommandIO): Command {
  return new Command('use')
    .description('make a profile the current one, which commands act on by default (`profile use local`: the local workspace)')
    .argument('<name>', 'a profile name, or local')
    .action(async (name: string) => {
      const { ProfileStore } = await import('../../src/cli/profiles.js');
      const store = ProfileStore.open(io.env);
      const profile = store.use(name);
      print(io, profile ? `Now using profile ${name} (${profile.url}).` : 'Now using the local workspace.');
      const note = overrideNote(store.read(), io.env);
      if (note) io.stderr.write(`flowdeck: ${note}\n`);
    });
}
