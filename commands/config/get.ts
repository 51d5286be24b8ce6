import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';

export function configGetCommand(io: CommandIO): Command {
  return new Command('get')
    .description('print a config value (a stored key, or a group such as secrets; none: all of it); every value but user.email is masked')
    .argument('[key]', 'dotted key, e.g. user.email')
    .option('--json', 'print the value as JSON')
    .action(async (key: string | undefined, opts: { json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const value = await backend.triage.getConfig(key);
        print(io, opts.json || (value !== null && typeof value === 'object') ? json(value) : String(value));
      });
    });
}
