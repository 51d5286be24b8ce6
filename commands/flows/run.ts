import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';
import { describeJob, stripChildren } from '../jobs/show.js';

export function flowsRunCommand(io: CommandIO): Command {
  return new Command('run')
    .description('run a flow now and wait for its job to finish')
    .argument('<flow>', 'flow id or name')
    .option('--json', 'print the finished Job as JSON')
    .action(async (flowRef: string, opts: { json?: boolean }) => {
      await withBackend(io.env, async (backend) => {
        const progress = io.stderr.isTTY
          ? (job: { numExport?: number; numSuccess?: number; numError?: number }) =>
              io.stderr.write(`\rrunning: ${job.numExport ?? 0} exported, ${job.numSuccess ?? 0} succeeded, ${job.numError ?? 0} failed`)
          : undefined;
        const job = await backend.runFlow(flowRef, progress ? { onProgress: progress } : {});
        if (progress) io.stderr.write('\n');
        if (opts.json) return print(io, json(stripChildren(job)));
        print(io, describeJob(job));
      });
    });
}
