import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { retryDataEditCommand } from './edit.js';
import { retryDataGetCommand } from './get.js';
import { retryDataPatchCommand } from './patch.js';
import { retryDataPutCommand } from './put.js';

export function retryDataCommand(io: CommandIO): Command {
  return new Command('retry-data')
    .description('read and fix the retry-data snapshots that retries re-feed')
    .addCommand(retryDataGetCommand(io))
    .addCommand(retryDataPutCommand(io))
    .addCommand(retryDataEditCommand(io))
    .addCommand(retryDataPatchCommand(io));
}
