import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { usersListCommand } from './list.js';

export function usersCommand(io: CommandIO): Command {
  return new Command('users').description('the people errors can be assigned to').addCommand(usersListCommand(io));
}
