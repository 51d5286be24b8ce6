import { Command } from 'commander';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { formatAge, formatCount, json, renderTable } from '../../src/cli/output.js';

export function errorsSummaryCommand(io: CommandIO): Command {
  return new Command('summary')
    .description("open errors per step of a flow")
    .argument('<flow>', 'flow id or name')
    .option('--json', 'print FlowErrorsResponse')
    .action(async (flowRef: string, opts: { json?: boolean }) => {
      await withBackend(io, async (backend) => {
        if (opts.json) return print(io, json(await backend.flowErrors(flowRef)));
        const flow = await backend.getFlow(flowRef);
        print(
          io,
          [
            `${flow.name}: ${formatCount(flow.numOpenError)} open errors`,
            renderTable(
              flow.steps,
              [
                { header: 'STEP', value: (s) => s.name, flex: true },
                { header: 'ID', value: (s) => s._id },
                { header: 'TYPE', value: (s) => s.type },
                { header: 'OPEN ERRORS', value: (s) => formatCount(s.numOpenError), align: 'right' },
                { header: 'LAST ERROR', value: (s) => formatAge(s.lastErrorAt) },
              ],
              width(io),
            ),
          ].join('\n'),
        );
      });
    });
}
