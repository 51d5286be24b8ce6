import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { requestsDeleteCommand } from './delete.js';
import { requestsListCommand } from './list.js';
import { requestsShowCommand } from './show.js';

export function requestsCommand(io: CommandIO): Command {
  return new Command('requests')
    .description("the masked HTTP requests and responses of a step's failures")
    .addCommand(requestsListCommand(io))
    .addCommand(requestsShowCommand(io))
    .addCommand(requestsDeleteCommand(io));
}
