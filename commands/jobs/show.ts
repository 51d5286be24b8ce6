import { Command } from 'commander';
import type { Backend, JobDetail } from '../../src/backend/contract/index.js';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { formatAge, formatCount, json, renderTable } from '../../src/cli/output.js';
import type { Job } from '../../src/domain/api.js';
import { NotFoundError } from '../../src/domain/errors.js';

export function stripChildren(job: JobDetail): Job {
  const { children: _children, note: _note, ...rest } = job;
  return rest;
}

export function duration(job: Job): string {
  if (!job.startedAt) return '-';
  const end = job.endedAt ? Date.parse(job.endedAt) : Date.now();
  const ms = end - Date.parse(job.startedAt);
  if (ms < 1000) return `${ms}ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}s`;
  // Whole seconds first: 1439 min 59.6 s reads 1440m0s, not 1439m60s.
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${s % 60}s`;
}

/** The name of the job's flow, as `jobs list` shows it; undefined when the job has none or the flow is gone. */
export async function jobFlowName(backend: Backend, job: Job): Promise<string | undefined> {
  if (!job._flowId) return undefined;
  try {
    return (await backend.getFlow(job._flowId)).name;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

export function describeJob(job: JobDetail, flowName?: string): string {
  const lines = [
    `Job:       ${job._id} (${job.type})`,
    `Status:    ${job.status}${job.note ? ` — ${job.note}` : ''}`,
    `Flow:      ${job._flowId ? (flowName ? `${flowName} (${job._flowId})` : job._flowId) : '-'}`,
    `By:        ${job.triggeredBy ?? '-'}${job.triggeredBy === 'auto' ? ' (automatic retry of errors whose retryAt came)' : ''}${job.canceledBy ? `, canceled by ${job.canceledBy}` : ''}`,
    `Started:   ${job.startedAt ?? '-'} (${formatAge(job.startedAt)}), took ${duration(job)}`,
    `Records:   ${formatCount(job.numExport ?? 0)} exported, ${formatCount(job.numSuccess ?? 0)} succeeded, ${formatCount(job.numError ?? 0)} failed`,
    `Errors:    ${formatCount(job.numOpenError ?? 0)} open, ${formatCount(job.numResolved ?? 0)} resolved`,
  ];
  if (job.children.length > 0) {
    lines.push(
      '',
      renderTable(job.children, [
        { header: 'STEP', value: (c) => c._expOrImpId ?? '-' },
        { header: 'TYPE', value: (c) => c.type },
        { header: 'STATUS', value: (c) => c.status },
        { header: 'EXPORTED', value: (c) => (c.numExport === undefined ? '' : formatCount(c.numExport)), align: 'right' },
        { header: 'SUCCESS', value: (c) => formatCount(c.numSuccess ?? 0), align: 'right' },
        { header: 'ERRORS', value: (c) => formatCount(c.numError ?? 0), align: 'right' },
        { header: 'OPEN', value: (c) => formatCount(c.numOpenError ?? 0), align: 'right' },
      ]),
    );
  }
  return lines.join('\n');
}

export function jobsShowCommand(io: CommandIO): Command {
  return new Command('show')
    .description('show a job with its counters and child jobs')
    .argument('<jobId>', 'job id')
    .option('--json', 'print the Job as JSON')
    .action(async (jobId: string, opts: { json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const job = await backend.getJob(jobId);
        print(io, opts.json ? json(stripChildren(job)) : describeJob(job, await jobFlowName(backend, job)));
      });
    });
}
