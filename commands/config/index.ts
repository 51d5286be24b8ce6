import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { configGetCommand } from './get.js';
import { configSetCommand } from './set.js';

export function configCommand(io: CommandIO): Command {
  return new Command('config')
    .description("read and change the workspace's config.json (values other than user.email stay masked)")
    .addCommand(configGetCommand(io))
    .addCommand(configSetCommand(io));
}
