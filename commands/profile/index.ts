import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { profileAddCommand } from './add.js';
import { profileListCommand } from './list.js';
import { profileRemoveCommand } from './remove.js';
import { profileShowCommand } from './show.js';
import { profileUseCommand } from './use.js';

export function profileCommand(io: CommandIO): Command {
  return new Command('profile')
    .description('remote profiles: servers commands act on instead of the local workspace (--profile NAME, FLOWDECK_PROFILE)')
    .addCommand(profileAddCommand(io))
    .addCommand(profileListCommand(io))
    .addCommand(profileUseCommand(io))
    .addCommand(profileShowCommand(io))
    .addCommand(profileRemoveCommand(io));
}
