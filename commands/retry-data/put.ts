import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';
import { readInput } from '../../src/cli/input.js';
import { parseJsonText } from '../../src/domain/json-text.js';

export function retryDataPutCommand(io: CommandIO): Command {
  return new Command('put')
    .description('replace a retry-data snapshot with a whole envelope (as `get` prints it); the error stays open')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step id or name')
    .argument('<key>', 'retryDataKey (or the errorId of an error that has one)')
    .argument('[file]', 'the envelope as JSON; - or nothing reads stdin')
    .option('--dry-run', 'validate the envelope, save nothing')
    .option('--json', 'print the saved FlowStepRetryData')
    .action(async (flow: string, step: string, key: string, file: string | undefined, opts: { dryRun?: boolean; json?: boolean }) => {
      const input = await readInput(file, 'retry-data envelope', io.stdin);
      const envelope = parseJsonText(input.text, input.source);
      await withBackend(io, async (backend) => {
        const saved = await backend.records.putRetryData(flow, step, key, envelope, { dryRun: opts.dryRun === true });
        if (opts.json) return print(io, json(saved));
        print(io, opts.dryRun ? `Valid: retry data ${saved.retryDataKey} would be replaced.` : `Saved retry data ${saved.retryDataKey}. The error stays open until it is retried or resolved.`);
      });
    });
}
