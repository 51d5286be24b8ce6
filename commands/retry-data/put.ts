import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';
import { InvalidInputError } from '../../src/domain/errors.js';

/** The text of a file, or of stdin for "-" (or no file when stdin is not a terminal). */
export function readInput(file: string | undefined, what: string): { text: string; source: string } {
  if (file === undefined || file === '-') {
    if (file === undefined && process.stdin.isTTY) throw new InvalidInputError(`give a file with the ${what}, or pipe it on stdin (-)`);
    try {
      return { text: readFileSync(0, 'utf8'), source: 'stdin' };
    } catch (e) {
      throw new InvalidInputError(`cannot read stdin: ${(e as Error).message}`);
    }
  }
  try {
    return { text: readFileSync(file, 'utf8'), source: file };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InvalidInputError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

export function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError(`invalid JSON in ${source}: ${(e as Error).message.split('\n')[0]}`);
  }
}

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
      const input = readInput(file, 'retry-data envelope');
      const envelope = parseJsonText(input.text, input.source);
      await withBackend(io.env, async (backend) => {
        const saved = await backend.records.putRetryData(flow, step, key, envelope, { dryRun: opts.dryRun === true });
        if (opts.json) return print(io, json(saved));
        print(io, opts.dryRun ? `Valid: retry data ${saved.retryDataKey} would be replaced.` : `Saved retry data ${saved.retryDataKey}. The error stays open until it is retried or resolved.`);
      });
    });
}
