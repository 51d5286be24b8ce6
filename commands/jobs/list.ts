import { Command } from 'commander';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { parseChoice, parsePositiveInt } from '../../src/cli/options.js';
import { formatAge, formatCount, json, renderTable } from '../../src/cli/output.js';
import { JOB_STATUSES, JOB_TYPES, type JobStatus, type JobType } from '../../src/domain/api.js';
import { duration } from './show.js';

export function jobsListCommand(io: CommandIO): Command {
  return new Command('list')
    .description('list recent jobs, newest first')
    .option('--flow <flow>', 'only jobs of this flow (id or name)')
    .option('--type <type>', `job type (${JOB_TYPES.join(', ')})`, parseChoice('type', JOB_TYPES))
    .option('--status <status>', `job status (${JOB_STATUSES.join(', ')})`, parseChoice('status', JOB_STATUSES))
    .option('--limit <n>', 'how many jobs (1-1000)', parsePositiveInt('limit', 1000), 20)
    .option('--json', 'print a JSON array of Job')
    .action(async (opts: { flow?: string; type?: JobType; status?: JobStatus; limit: number; json?: boolean }) => {
      await withBackend(io.env, async (backend) => {
        const jobs = await backend.listJobs({
          limit: opts.limit,
          ...(opts.flow ? { flowRef: opts.flow } : {}),
          ...(opts.type ? { type: opts.type } : {}),
          ...(opts.status ? { status: opts.status } : {}),
        });
        if (opts.json) return print(io, json(jobs));
        if (jobs.length === 0) return print(io, 'No jobs.');
        const flows = new Map((await backend.listFlows()).map((f) => [f._id, f.name]));
        print(
          io,
          renderTable(
            jobs,
            [
              { header: 'JOB', value: (j) => j._id },
              { header: 'TYPE', value: (j) => j.type },
              { header: 'FLOW', value: (j) => (j._flowId ? (flows.get(j._flowId) ?? j._flowId) : '-'), flex: true },
              { header: 'STATUS', value: (j) => j.status },
              { header: 'BY', value: (j) => j.triggeredBy ?? '-' },
              { header: 'STARTED', value: (j) => formatAge(j.startedAt ?? j.createdAt) },
              { header: 'TOOK', value: (j) => duration(j) },
              { header: 'SUCCESS', value: (j) => formatCount(j.numSuccess ?? 0), align: 'right' },
              { header: 'ERRORS', value: (j) => formatCount(j.numError ?? 0), align: 'right' },
              { header: 'OPEN', value: (j) => formatCount(j.numOpenError ?? 0), align: 'right' },
            ],
            width(io),
          ),
        );
      });
    });
}
