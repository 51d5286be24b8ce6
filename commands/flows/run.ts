import { Command } from 'commander';
import { followJob } from '../../src/backend/follow-job.js';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';
import { JobOutcomeError } from '../../src/domain/errors.js';
import { describeJob, jobFlowName, stripChildren } from '../jobs/show.js';

export function flowsRunCommand(io: CommandIO): Command {
  return new Command('run')
    .description('run a flow now and wait for its job to finish')
    .argument('<flow>', 'flow id or name')
    .option('--json', 'print the finished Job as JSON')
    .action(async (flowRef: string, opts: { json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const progress = io.stderr.isTTY
          ? (job: { numExport?: number; numSuccess?: number; numError?: number }) =>
              io.stderr.write(`\rrunning: ${job.numExport ?? 0} exported, ${job.numSuccess ?? 0} succeeded, ${job.numError ?? 0} failed`)
          : undefined;
        const started = await backend.runFlow(flowRef);
        const job = await followJob(backend, started._id, progress ? { onProgress: progress } : {});
        if (progress) io.stderr.write('\n');
        print(io, opts.json ? json(stripChildren(job)) : describeJob(job, await jobFlowName(backend, job)));
        // Like jobs wait: scripts see a run that did not complete, or whose records failed, as a failure.
        if (job.status !== 'completed') throw new JobOutcomeError(`job ${job._id} ${job.status}${job.note ? `: ${job.note}` : ''}`);
        const failed = job.numError ?? 0;
        if (failed > 0) throw new JobOutcomeError(`job ${job._id} completed with ${failed.toLocaleString('en-US')} record${failed === 1 ? '' : 's'} failing`);
      });
    });
}
