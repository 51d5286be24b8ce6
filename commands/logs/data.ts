import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { parseChoice } from '../../src/cli/options.js';
import { json } from '../../src/cli/output.js';
import { LOG_QUERY_STAGES } from '../../src/domain/api.js';

export function logsDataCommand(io: CommandIO): Command {
  return new Command('data')
    .description("print what a record's step logged at one stage (apiCall: the HTTP exchange; mapping: input and output)")
    .argument('<flow>', 'flow id or name')
    .argument('<job>', 'flow job id')
    .argument('<recordId>', 'a recordId from `logs list`')
    .option('--stage <stage>', `one of ${LOG_QUERY_STAGES.join(', ')}`, parseChoice('stage', LOG_QUERY_STAGES), 'apiCall')
    .option('--step <step>', 'the step of the record, when its recordId is at several')
    .option('--json', 'print ExecutionLogDataResponse')
    .action(async (flow: string, job: string, recordId: string, opts: { stage: string; step?: string; json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const records = backend.records;
        const entry = await records.findLogEntry(flow, job, recordId, opts.step);
        const response = await records.logData(flow, job, { _expOrImpId: entry._expOrImpId, stage: opts.stage, groupId: entry.groupId, recordId: entry.recordId });
        if (opts.json) return print(io, json(response));
        if (response.logs.length === 0) return print(io, `No ${opts.stage} log data for record ${recordId}.`);
        print(io, response.logs.map((l) => json(l.log)).join('\n'));
      });
    });
}
