import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { resolvedDeleteCommand } from './delete.js';
import { resolvedListCommand } from './list.js';

export function resolvedCommand(io: CommandIO): Command {
  return new Command('resolved')
    .description('list and delete resolved errors')
    .addCommand(resolvedListCommand(io))
    .addCommand(resolvedDeleteCommand(io));
}
