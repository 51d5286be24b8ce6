import { Command } from 'commander';
import { confirm } from '../../src/cli/confirm.js';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { formatCount, json } from '../../src/cli/output.js';
import { addSelectionOptions, selectionFromOptions, type SelectionOptions } from '../../src/cli/selection.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { parsePatchDocument, parseSetArg, parseUnsetArg, type PatchOp } from '../../src/domain/json-patch.js';
import { readInput } from '../../src/cli/input.js';
import { parseJsonText } from '../../src/domain/json-text.js';
import type { RetryDataPatchChange, RetryDataPatchResult } from '../../src/backend/contract/index.js';

interface PatchOptions extends SelectionOptions {
  set?: SequencedOp[];
  unset?: SequencedOp[];
  patch?: string;
}

// --set and --unset are two options, but their order on the command line is the order they apply in.
interface SequencedOp {
  seq: number;
  op: PatchOp;
}
let sequence = 0;
const collect = (parse: (value: string) => PatchOp) => (value: string, previous: SequencedOp[] = []) => [...previous, { seq: sequence++, op: parse(value) }];

const DIFFS_SHOWN = 20;

/** A unified diff of one snapshot's change (the diff package is loaded only when one is shown). */
export async function changeDiff(change: RetryDataPatchChange): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
  const name = `${change.retryDataKey}.json`;
  return createTwoFilesPatch(`a/${name}`, `b/${name}`, `${json(change.before)}\n`, `${json(change.after)}\n`, undefined, undefined, { context: 2 });
}

function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** What was left alone, and why. */
function leftAlone(r: RetryDataPatchResult): string[] {
  const parts: string[] = [];
  if (r.unchanged.length) parts.push(`${plural(r.unchanged.length, 'snapshot')} already as asked`);
  if (r.testFailed.length) parts.push(`${plural(r.testFailed.length, 'snapshot')} left alone (a test did not hold)`);
  if (r.skippedNoRetryData) parts.push(`${plural(r.skippedNoRetryData, 'error')} without retry data skipped`);
  return parts;
}

export function patchSummary(r: RetryDataPatchResult): string {
  if (r.changed.length === 0) return `Nothing to change: ${leftAlone(r).join('; ') || 'no open error selected'}.`;
  const errors = r.changed.reduce((n, c) => n + c.errorIds.length, 0);
  const head = `${r.dryRun ? 'Would change' : 'Changed'} ${plural(r.changed.length, 'snapshot')} (${plural(errors, 'error')})`;
  return `${[head, ...leftAlone(r)].join('; ')}.`;
}

async function opsFrom(opts: PatchOptions, stdin: CommandIO['stdin']): Promise<PatchOp[]> {
  const flags = [...(opts.set ?? []), ...(opts.unset ?? [])].sort((a, b) => a.seq - b.seq).map((s) => s.op);
  if (opts.patch !== undefined) {
    if (flags.length) throw new InvalidInputError('give --patch or --set/--unset, not both', 'patch');
    const input = await readInput(opts.patch, 'JSON Patch', stdin);
    return parsePatchDocument(parseJsonText(input.text, input.source), input.source);
  }
  if (flags.length === 0) throw new InvalidInputError('say what to change: --set data.path=value, --unset data.path or --patch file.json', 'set');
  return flags;
}

export function retryDataPatchCommand(io: CommandIO): Command {
  const command = new Command('patch')
    .description('apply one fix to the snapshots of many errors, in one transaction')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step id or name')
    .argument('[ids...]', 'retryDataKeys or errorIds (or use --all / filters)')
    .option('--set <path=value>', 'set a field, e.g. data.customer.email=ana@example.com or data.items[0].quantity=1 (JSON when it parses, else text)', collect(parseSetArg))
    .option('--unset <path>', 'remove a field, e.g. data.customer.fax', collect(parseUnsetArg))
    .option('--patch <file>', 'an RFC 6902 JSON Patch with paths under /data (- reads stdin)');
  addSelectionOptions(command);
  return command.action(async (flow: string, step: string, ids: string[], opts: PatchOptions) => {
    const ops = await opsFrom(opts, io.stdin);
    const selection = selectionFromOptions(ids, opts);
    await withBackend(io, async (backend) => {
      const records = backend.records;
      const preview = await records.patchRetryData(flow, step, selection, ops, { dryRun: true });
      if (opts.dryRun) {
        if (opts.json) return print(io, json(preview));
        for (const change of preview.changed.slice(0, DIFFS_SHOWN)) io.stdout.write(await changeDiff(change));
        if (preview.changed.length > DIFFS_SHOWN) print(io, `… and ${formatCount(preview.changed.length - DIFFS_SHOWN)} more (--json prints every change)`);
        return print(io, patchSummary(preview));
      }
      if (preview.changed.length === 0) {
        if (opts.json) return print(io, json(preview));
        return print(io, patchSummary(preview));
      }
      const errors = preview.changed.reduce((n, c) => n + c.errorIds.length, 0);
      const question = `Patch ${formatCount(preview.changed.length)} retry-data snapshot${preview.changed.length === 1 ? '' : 's'} of ${formatCount(errors)} error${errors === 1 ? '' : 's'}?`;
      if (!(await confirm(io, question, { yes: opts.yes }))) {
        io.stderr.write('Nothing changed.\n');
        return;
      }
      // Exactly the snapshots shown and confirmed: errors recorded meanwhile are not reached.
      const result = await records.patchRetryData(flow, step, { errorIds: preview.changed.flatMap((c) => c.errorIds), confirmed: true }, ops);
      print(io, opts.json ? json(result) : patchSummary(result));
    });
  });
}
