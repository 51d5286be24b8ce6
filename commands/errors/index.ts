import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { errorsExportCommand } from './export.js';
import { errorsFiltersCommand } from './filters.js';
import { errorsGroupsCommand } from './groups.js';
import { errorsListCommand } from './list.js';
import { errorsRetryCommand } from './retry.js';
import { errorsSummaryCommand } from './summary.js';
import { errorsAssignCommand } from './assign.js';
import { errorsReopenCommand } from './reopen.js';
import { errorsResolveCommand } from './resolve.js';
import { errorsShowCommand } from './show.js';
import { errorsTagCommand } from './tag.js';
import { errorsUnassignCommand } from './unassign.js';

export function errorsCommand(io: CommandIO): Command {
  return new Command('errors')
    .description('list and triage open errors')
    .addCommand(errorsSummaryCommand(io))
    .addCommand(errorsListCommand(io))
    .addCommand(errorsGroupsCommand(io))
    .addCommand(errorsShowCommand(io))
    .addCommand(errorsAssignCommand(io))
    .addCommand(errorsUnassignCommand(io))
    .addCommand(errorsTagCommand(io))
    .addCommand(errorsResolveCommand(io))
    .addCommand(errorsReopenCommand(io))
    .addCommand(errorsFiltersCommand(io))
    .addCommand(errorsRetryCommand(io))
    .addCommand(errorsExportCommand(io));
}
