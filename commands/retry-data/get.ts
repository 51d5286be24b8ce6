import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';

export function retryDataGetCommand(io: CommandIO): Command {
  return new Command('get')
    .description("print an error's retry-data snapshot (FlowStepRetryData)")
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step id or name')
    .argument('<key>', 'retryDataKey (or the errorId of an error that has one)')
    .option('--json', 'print FlowStepRetryData (the default: the snapshot is JSON)')
    .action(async (flow: string, step: string, key: string) => {
      await withBackend(io, async (backend) => {
        print(io, json(await backend.records.getRetryData(flow, step, key)));
      });
    });
}
