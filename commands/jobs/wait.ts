import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { parseDurationMs } from '../../src/cli/options.js';
import { json } from '../../src/cli/output.js';
import { makeProgress } from '../../src/cli/progress.js';
import { ConflictError } from '../../src/domain/errors.js';
import { describeJob, stripChildren } from './show.js';

export function jobsWaitCommand(io: CommandIO): Command {
  return new Command('wait')
    .description('wait until a job finishes (exit 1 when it failed or was canceled)')
    .argument('<jobId>', 'job id')
    .option('--timeout <duration>', 'give up after this long (e.g. 10m)', parseDurationMs('timeout'))
    .option('--json', 'print the finished Job as JSON')
    .action(async (jobId: string, opts: { timeout?: number; json?: boolean }) => {
      await withBackend(io.env, async (backend) => {
        const progress = makeProgress(io.stderr, 0);
        const job = await backend.retries.waitForJob(jobId, (j) => progress.update(j), opts.timeout ?? 0);
        progress.done();
        print(io, opts.json ? json(stripChildren(job)) : describeJob(job));
        if (job.status !== 'completed') throw new ConflictError(`job ${job._id} ${job.status}`, 'job_not_completed');
      });
    });
}
