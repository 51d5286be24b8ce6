import type { Command } from 'commander';
import { describeSelection } from '../backend/selection.js';
import { FlowdeckError } from '../domain/errors.js';
import { confirm } from './confirm.js';
import { print, withBackend, type CommandIO } from './context.js';
import { addFilterOptions } from './filters.js';
import { formatCount, json } from './output.js';
import type { SelectionOptions } from './selection.js';
import type { Backend, ErrorSelection, MutationOptions } from '../backend/contract/index.js';

// The flow every bulk triage command shares: compute the selection, confirm with its count when
// the action is destructive or reaches errors by --all or filters, then change exactly the ids
// that were confirmed.

/** The operator answered no: nothing changed (exit 1). */
export class CanceledError extends FlowdeckError {
  readonly code = 'canceled';
  readonly status = 409;
  constructor() {
    super('canceled; nothing changed');
  }
}

export interface BulkAction<R> {
  /** "Resolve", as asked: "Resolve 1,204 errors? y/N". */
  verb: string;
  /** Past tense for the summary: "Resolved 1,204 errors." */
  done: string;
  /** Which errors the selection walks, for "No open errors match". */
  state: 'open' | 'resolved';
  /** Ask even for explicit ids (resolve, delete). */
  destructive: boolean;
  /** The API answers 204: --json prints nothing (the summary goes to stderr). */
  noContent: boolean;
  run(backend: Backend, selection: ErrorSelection, options: MutationOptions): Promise<R>;
  /** The error ids a result touched. */
  ids(result: R): string[];
  /** Appended to the summary line ("to ana@…"). */
  suffix?: string;
  /** What happened to confirmed errors that were no longer there to change: "resolved meanwhile". */
  meanwhile?: string;
}

export function plural(n: number, word = 'error'): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}

/** ": a, b, … and 12 more" after a count, or nothing for no ids. */
export function preview(ids: string[], max = 5): string {
  if (ids.length === 0) return '';
  const shown = ids.slice(0, max).join(', ');
  return ids.length > max ? `: ${shown}, … and ${formatCount(ids.length - max)} more` : `: ${shown}`;
}

export async function runBulk<R>(io: CommandIO, action: BulkAction<R>, selection: ErrorSelection, opts: SelectionOptions): Promise<void> {
  await withBackend(io, async (backend) => {
    const kind = describeSelection(selection);
    const broad = kind === 'all' || kind === 'query';
    const suffix = action.suffix ? ` ${action.suffix}` : '';
    if (opts.dryRun) {
      const result = await action.run(backend, selection, { dryRun: true });
      const ids = action.ids(result);
      if (opts.json) return print(io, json(result));
      return print(io, `Would ${action.verb.toLowerCase()} ${plural(ids.length)}${suffix} (dry run, nothing changed)${preview(ids)}`);
    }
    if (opts.yes || !(action.destructive || broad)) return report(io, action, opts, await action.run(backend, selection, {}), suffix);
    // What would change, computed exactly (and rolled back), so the question carries the count
    // and the change afterwards touches only the confirmed ids: errors added while the operator
    // reads the question are not reached, and those changed meanwhile are skipped and said.
    const would = await action.run(backend, selection, { dryRun: true });
    const ids = action.ids(would);
    if (ids.length === 0) return report(io, action, opts, would, suffix);
    if (action.destructive || ids.length > 1) {
      const ok = await confirm(io, `${action.verb} ${plural(ids.length)}${suffix}?`, { yes: opts.yes });
      if (!ok) throw new CanceledError();
    }
    return report(io, action, opts, await action.run(backend, { errorIds: ids, confirmed: true }, {}), suffix, ids.length);
  });
}

/** "12 of the 66,292 were resolved meanwhile", or nothing when the whole confirmed set was acted on. */
export function meanwhileNote(confirmed: number, acted: number, what = 'changed meanwhile'): string {
  const gone = confirmed - acted;
  return gone > 0 ? ` ${formatCount(gone)} of the ${formatCount(confirmed)} ${gone === 1 ? 'was' : 'were'} ${what} and left alone.` : '';
}

function report<R>(io: CommandIO, action: BulkAction<R>, opts: SelectionOptions, result: R, suffix: string, confirmed?: number): void {
  const n = action.ids(result).length;
  const note = confirmed === undefined ? '' : meanwhileNote(confirmed, n, action.meanwhile);
  const line = `${n === 0 ? `No ${action.state} errors changed.` : `${action.done} ${plural(n)}${suffix}.`}${note}`;
  if (!opts.json) return print(io, line);
  if (action.noContent) io.stderr.write(`${line}\n`);
  else print(io, json(result));
}

/** The selection options of commands over resolved errors (reopen, resolved delete). */
export function addResolvedSelectionOptions(command: Command): Command {
  command.option('--all', 'every resolved error of the step');
  addFilterOptions(command);
  return command
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--json', "print the API's response as JSON");
}
