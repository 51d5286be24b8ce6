import { Command } from 'commander';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { parsePositiveInt } from '../../src/cli/options.js';
import { formatAge, formatCount, json, renderTable } from '../../src/cli/output.js';
import type { FlowJobsSearchResponse } from '../../src/domain/api.js';

type Run = FlowJobsSearchResponse['runs'][number];

export function jobsSearchCommand(io: CommandIO): Command {
  return new Command('search')
    .description("find a flow's runs and retries that touched records with a trace key")
    .argument('<flow>', 'flow id or name')
    .requiredOption('--trace-key <prefix>', 'trace key (prefix), e.g. SO-10001')
    .option('--limit <n>', 'at most this many jobs (1-1000)', parsePositiveInt('limit', 1000), 1000)
    .option('--json', 'print FlowJobsSearchResponse')
    .action(async (flow: string, opts: { traceKey: string; limit: number; json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const response = await backend.records.searchJobs(flow, opts.traceKey, { pageSize: opts.limit });
        if (opts.json) return print(io, json(response));
        if (response.runs.length === 0) return print(io, `No job of this flow touched a record with traceKey ${opts.traceKey}*.`);
        print(
          io,
          renderTable(
            response.runs,
            [
              { header: 'JOB ID', value: (r: Run) => r._id },
              { header: 'TYPE', value: (r: Run) => r.type ?? '-' },
              { header: 'STATUS', value: (r: Run) => r.status ?? '-' },
              { header: 'STARTED', value: (r: Run) => formatAge(r.startedAt) },
              { header: 'SUCCESS', value: (r: Run) => formatCount(r.numSuccess ?? 0), align: 'right' },
              { header: 'ERRORS', value: (r: Run) => formatCount(r.numError ?? 0), align: 'right' },
              { header: 'IGNORED', value: (r: Run) => formatCount(r.numIgnore ?? 0), align: 'right' },
            ],
            width(io),
          ),
        );
      });
    });
}
