import { Command } from 'commander';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { formatAge, formatCount, json, renderTable } from '../../src/cli/output.js';

export function flowsShowCommand(io: CommandIO): Command {
  return new Command('show')
    .description('show a flow and its steps')
    .argument('<flow>', 'flow id or name')
    .option('--json', 'print JSON')
    .action(async (flowRef: string, opts: { json?: boolean }) => {
      await withBackend(io.env, async (backend) => {
        const flow = await backend.getFlow(flowRef);
        if (opts.json) return print(io, json(flow));
        const lines = [
          `Flow:        ${flow.name}`,
          `Id:          ${flow._id}`,
          `State:       ${flow.removed ? 'removed: no flow file defines it any more (its errors can be read and resolved, not retried)' : flow.disabled ? 'disabled' : 'enabled'}`,
          // Only a local workspace's flows have a file; a served one has none to show.
          ...(flow.file ? [`File:        ${flow.file}`] : []),
          `Open errors: ${formatCount(flow.numOpenError)}`,
          `Last run:    ${flow.lastJob ? `${flow.lastJob.status} ${formatAge(flow.lastJob.endedAt ?? flow.lastJob.startedAt)} (job ${flow.lastJob._id})` : 'never'}`,
          '',
          renderTable(
            flow.steps,
            [
              { header: '#', value: (s) => String(s.position + 1), align: 'right' },
              { header: 'STEP', value: (s) => s.name, flex: true },
              { header: 'ID', value: (s) => s._id },
              { header: 'TYPE', value: (s) => s.type },
              { header: 'OPEN ERRORS', value: (s) => formatCount(s.numOpenError), align: 'right' },
              { header: 'LAST ERROR', value: (s) => formatAge(s.lastErrorAt) },
            ],
            width(io),
          ),
        ];
        print(io, lines.join('\n'));
      });
    });
}
