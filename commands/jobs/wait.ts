import { Command } from 'commander';
import { followJob } from '../../src/backend/follow-job.js';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { parseDurationMs } from '../../src/cli/options.js';
import { formatCount, json } from '../../src/cli/output.js';
import { makeProgress } from '../../src/cli/progress.js';
import { JobOutcomeError } from '../../src/domain/errors.js';
import { plural } from '../../src/cli/bulk.js';
import { describeJob, jobFlowName, stripChildren } from './show.js';

export function jobsWaitCommand(io: CommandIO): Command {
  return new Command('wait')
    .description('wait until a job finishes (exit 1 when it failed, was canceled, or records failed)')
    .argument('<jobId>', 'job id')
    .option('--timeout <duration>', 'give up after this long (e.g. 10m)', parseDurationMs('timeout'))
    .option('--json', 'print the finished Job as JSON')
    .action(async (jobId: string, opts: { timeout?: number; json?: boolean }) => {
      await withBackend(io, async (backend) => {
        // A retry job's total is known from the start: the bar fills up to it.
        const counts = await backend.retries.recordCounts(jobId);
        const progress = makeProgress(io.stderr, counts?.total);
        if (counts && counts.pending > 0) io.stderr.write(`Waiting for ${plural(counts.total, 'record')} (job ${jobId}, ${formatCount(counts.pending)} to go).\n`);
        const job = await followJob(backend, jobId, { onProgress: (j) => progress.update(j), timeoutMs: opts.timeout ?? 0 }).catch((e: unknown) => {
          progress.interrupted();
          throw e;
        });
        progress.done();
        print(io, opts.json ? json(stripChildren(job)) : describeJob(job, await jobFlowName(backend, job)));
        if (job.status !== 'completed') throw new JobOutcomeError(`job ${job._id} ${job.status}`);
        // Completed with records that failed again is not "all done" either.
        const failed = job.type === 'retry' ? ((await backend.retries.recordCounts(jobId))?.failed ?? 0) : (job.numError ?? 0);
        if (failed > 0) throw new JobOutcomeError(`job ${job._id} completed with ${plural(failed, 'record')} failing`);
      });
    });
}
