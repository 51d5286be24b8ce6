import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { logsChildrenCommand } from './children.js';
import { logsDataCommand } from './data.js';
import { logsListCommand } from './list.js';
import { logsTraceCommand } from './trace.js';

export function logsCommand(io: CommandIO): Command {
  return new Command('logs')
    .description('execution logs of flow runs: records per step, traces across steps, per-stage data')
    .addCommand(logsListCommand(io))
    .addCommand(logsTraceCommand(io))
    .addCommand(logsDataCommand(io))
    .addCommand(logsChildrenCommand(io));
}
