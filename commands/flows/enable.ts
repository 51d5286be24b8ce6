import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';

/** `flows enable` and `flows disable` differ only in the state they set. */
export function flowStateCommand(io: CommandIO, disabled: boolean): Command {
  const verb = disabled ? 'disable' : 'enable';
  return new Command(verb)
    .description(disabled ? 'disable a flow: it no longer runs and refuses retries' : 'enable a flow again')
    .argument('<flow>', 'flow id or name')
    .option('--json', 'print the flow')
    .action(async (flow: string, opts: { json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const before = await backend.getFlow(flow);
        const after = await backend.records.setFlowDisabled(flow, disabled);
        if (opts.json) return print(io, json(after));
        const state = disabled ? 'disabled' : 'enabled';
        print(io, before.disabled === disabled ? `Flow "${after.name}" is already ${state}.` : `Flow "${after.name}" ${state}.`);
      });
    });
}

export function flowsEnableCommand(io: CommandIO): Command {
  return flowStateCommand(io, false);
}
