import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';
import { stripChildren } from './show.js';

export function jobsCancelCommand(io: CommandIO): Command {
  return new Command('cancel')
    .description('cancel a queued or running job; records it has not reached stay open')
    .argument('<jobId>', 'job id')
    .option('--json', 'print the Job as JSON')
    .action(async (jobId: string, opts: { json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const job = await backend.retries.cancelJob(jobId);
        print(io, opts.json ? json(stripChildren(job)) : `Job ${job._id} ${job.status === 'canceled' ? 'canceled' : 'is being canceled'}.`);
      });
    });
}
