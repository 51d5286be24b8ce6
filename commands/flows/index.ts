import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { flowsDisableCommand } from './disable.js';
import { flowsEnableCommand } from './enable.js';
import { flowsListCommand } from './list.js';
import { flowsRunCommand } from './run.js';
import { flowsShowCommand } from './show.js';

export function flowsCommand(io: CommandIO): Command {
  return new Command('flows')
    .description('list, inspect and run flows')
    .addCommand(flowsListCommand(io))
    .addCommand(flowsShowCommand(io))
    .addCommand(flowsRunCommand(io))
    .addCommand(flowsEnableCommand(io))
    .addCommand(flowsDisableCommand(io));
}
