import type { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { flowStateCommand } from './enable.js';

export function flowsDisableCommand(io: CommandIO): Command {
  return flowStateCommand(io, true);
}
