import { Command } from 'commander';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { formatAge, formatCount, json, renderTable } from '../../src/cli/output.js';

export function flowsListCommand(io: CommandIO): Command {
  return new Command('list')
    .description('list flows with their open-error counts')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const flows = await backend.listFlows();
        if (opts.json) return print(io, json(flows));
        if (flows.length === 0) return print(io, 'No flows in this workspace. Add flow files under flows/ or run `flowdeck demo`.');
        print(
          io,
          renderTable(
            flows,
            [
              { header: 'NAME', value: (f) => f.name, flex: true },
              { header: 'ID', value: (f) => f._id },
              { header: 'STATE', value: (f) => (f.removed ? 'removed (no flow file)' : f.disabled ? 'disabled' : 'enabled') },
              { header: 'OPEN ERRORS', value: (f) => formatCount(f.numOpenError), align: 'right' },
              { header: 'STEPS', value: (f) => String(f.steps.length), align: 'right' },
              { header: 'LAST RUN', value: (f) => (f.lastJob ? `${f.lastJob.status} ${formatAge(f.lastJob.endedAt ?? f.lastJob.startedAt)}` : 'never') },
            ],
            width(io),
          ),
        );
      });
    });
}
