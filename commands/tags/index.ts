import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { tagsCreateCommand } from './create.js';
import { tagsDeleteCommand } from './delete.js';
import { tagsListCommand } from './list.js';

export function tagsCommand(io: CommandIO): Command {
  return new Command('tags')
    .description('the tag catalog: short codes and the names errors show')
    .addCommand(tagsListCommand(io))
    .addCommand(tagsCreateCommand(io))
    .addCommand(tagsDeleteCommand(io));
}
