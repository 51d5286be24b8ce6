import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { errorsFiltersCommand } from './filters.js';
import { errorsListCommand } from './list.js';
import { errorsRetryCommand } from './retry.js';
import { errorsSummaryCommand } from './summary.js';

export function errorsCommand(io: CommandIO): Command {
  return new Command('errors')
    .description('list and triage open errors')
    .addCommand(errorsSummaryCommand(io))
    .addCommand(errorsListCommand(io))
    .addCommand(errorsFiltersCommand(io))
    .addCommand(errorsRetryCommand(io));
}
