import { Command } from 'commander';
import type { JobListEntry, JobListParams } from '../../src/backend/contract/index.js';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { parseChoice, parsePositiveInt } from '../../src/cli/options.js';
import { formatAge, formatCount, json, renderTable } from '../../src/cli/output.js';
import { JOB_STATUSES, JOB_TYPES, type Job, type JobStatus, type JobType } from '../../src/domain/api.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { decodeId } from '../../src/domain/ids.js';
import { duration } from './show.js';

interface JobsListOptions {
  flow?: string;
  type?: JobType;
  status?: JobStatus;
  by?: string;
  mine?: boolean;
  limit: number;
  page?: string;
  all?: boolean;
  json?: boolean;
}

/** --json prints the API's Job; the failure reason is the table's (and `jobs show`'s). */
const apiJob = ({ note: _note, ...job }: JobListEntry): Job => job;

export function jobsListCommand(io: CommandIO): Command {
  const command = new Command('list')
    .description('list jobs, newest first (filter by type, status, flow, who started them; page with --page or --all)')
    .option('--flow <flow>', 'only jobs of this flow (id or name)')
    .option('--type <type>', `job type (${JOB_TYPES.join(', ')})`, parseChoice('type', JOB_TYPES))
    .option('--status <status>', `job status (${JOB_STATUSES.join(', ')})`, parseChoice('status', JOB_STATUSES))
    .option('--by <who>', 'only jobs started by this operator (an email, me, or auto for automatic retries)')
    .option('--mine', 'only the jobs you started (--by me)')
    .option('--limit <n>', 'jobs per page (1-1000)', parsePositiveInt('limit', 1000), 20)
    .option('--page <jobId>', 'continue after this job (the "more:" line names it)')
    .option('--all', 'every matching job, not one page')
    .option('--json', 'print a JSON array of Job');
  return command.action(async (opts: JobsListOptions) => {
    if (opts.mine && opts.by !== undefined) throw new InvalidInputError('give --mine or --by, not both', 'by');
    if (opts.page !== undefined && !decodeId('job', opts.page)) throw new InvalidInputError(`--page takes a jobId (24 hex), got "${opts.page}"`, 'page');
    await withBackend(io, async (backend) => {
      // `me` is the acting user: the backend knows who that is (the operator here, the token's user on a server).
      const by = opts.mine ? 'me' : opts.by?.trim();
      const filter: JobListParams = {
        ...(opts.flow ? { flowRef: opts.flow } : {}),
        ...(opts.type ? { type: opts.type } : {}),
        ...(opts.status ? { status: opts.status } : {}),
        ...(by ? { triggeredBy: by } : {}),
      };
      let jobs: JobListEntry[] = [];
      let more: string | undefined;
      if (opts.all) {
        // Page by page in the store (1,000 at a time); a workspace's jobs fit in memory.
        for (let before = opts.page; ; ) {
          const page = await backend.listJobs({ ...filter, limit: 1000, ...(before ? { before } : {}) });
          jobs.push(...page);
          if (page.length < 1000) break;
          before = page[page.length - 1]!._id;
        }
      } else {
        jobs = await backend.listJobs({ ...filter, limit: opts.limit, ...(opts.page ? { before: opts.page } : {}) });
        // A full page: one job looked up beyond it tells whether another page exists, without counting.
        const last = jobs[jobs.length - 1];
        if (last && jobs.length === opts.limit && (await backend.listJobs({ ...filter, limit: 1, before: last._id })).length > 0) more = last._id;
      }
      if (opts.json) return print(io, json(jobs.map(apiJob)));
      if (jobs.length === 0) return print(io, 'No jobs.');
      const flows = await backend.listFlows();
      const flowNames = new Map(flows.map((f) => [f._id, f.name]));
      const stepNames = new Map(flows.flatMap((f) => f.steps.map((s) => [`${f._id}/${s._id}`, s.name] as const)));
      print(
        io,
        renderTable(
          jobs,
          [
            { header: 'JOB', value: (j) => j._id },
            { header: 'TYPE', value: (j) => j.type },
            { header: 'FLOW', value: (j) => (j._flowId ? (flowNames.get(j._flowId) ?? j._flowId) : '-'), flex: true },
            { header: 'STEP', value: (j) => (j._expOrImpId ? (stepNames.get(`${j._flowId}/${j._expOrImpId}`) ?? j._expOrImpId) : '-'), flex: true },
            { header: 'STATUS', value: (j) => j.status },
            { header: 'BY', value: (j) => j.triggeredBy ?? '-' },
            { header: 'STARTED', value: (j) => (j.startedAt ? formatAge(j.startedAt) : j.status === 'queued' ? 'queued' : formatAge(j.createdAt)) },
            { header: 'TOOK', value: (j) => duration(j) },
            { header: 'SUCCESS', value: (j) => formatCount(j.numSuccess ?? 0), align: 'right' },
            { header: 'ERRORS', value: (j) => formatCount(j.numError ?? 0), align: 'right' },
            { header: 'OPEN', value: (j) => formatCount(j.numOpenError ?? 0), align: 'right' },
            { header: 'REASON', value: (j) => (j.status === 'failed' || j.status === 'canceled' ? (j.note ?? (j.canceledBy ? `canceled by ${j.canceledBy}` : '-')) : ''), flex: true },
          ],
          width(io),
        ),
      );
      if (more) io.stderr.write(`more: flowdeck jobs list${describeFilter(opts, by)} --page ${more}\n`);
    });
  });
}

/** The filters again, for the "more:" line. */
function describeFilter(opts: JobsListOptions, by: string | undefined): string {
  const q = (v: string) => (/^[\w.@:-]+$/.test(v) ? v : JSON.stringify(v));
  return [
    opts.flow ? ` --flow ${q(opts.flow)}` : '',
    opts.type ? ` --type ${opts.type}` : '',
    opts.status ? ` --status ${opts.status}` : '',
    opts.mine ? ' --mine' : by ? ` --by ${q(by)}` : '',
    opts.limit !== 20 ? ` --limit ${opts.limit}` : '',
  ].join('');
}
