import { Command } from 'commander';
import { print, type CommandIO } from '../../src/cli/context.js';

export function profileRemoveCommand(io: CommandIO): Command {
  return new Command('remove')
    .description('remove a profile and the token stored with it (the current one: local becomes current)')
    .argument('<name>', 'the profile name')
    .action(async (name: string) => {
      const { ProfileStore } = await import('../../src/cli/profiles.js');
      const { wasCurrent } = ProfileStore.open(io.env).remove(name);
      print(io, `Removed profile ${name}.${wasCurrent ? ' It was the current one: the local workspace is current again.' : ''}`);
    });
}
