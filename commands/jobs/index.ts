import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { jobsCancelCommand } from './cancel.js';
import { jobsListCommand } from './list.js';
import { jobsSearchCommand } from './search.js';
import { jobsShowCommand } from './show.js';
import { jobsWaitCommand } from './wait.js';

export function jobsCommand(io: CommandIO): Command {
  return new Command('jobs').description('follow flow and retry jobs').addCommand(jobsListCommand(io)).addCommand(jobsShowCommand(io))
    .addCommand(jobsWaitCommand(io))
    .addCommand(jobsCancelCommand(io))
    .addCommand(jobsSearchCommand(io));
}
