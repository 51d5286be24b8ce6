import type { Command } from 'commander';
import { InvalidInputError } from '../domain/errors.js';
import { decodeId } from '../domain/ids.js';
import { addFilterOptions, queryTextFromOptions, type FilterOptions } from './filters.js';
import type { ErrorSelection } from '../backend/contract/index.js';

// Bulk commands all take the same selection: errorIds and retryDataKeys as arguments, --all, or the
// list filters.

export interface SelectionOptions extends FilterOptions {
  all?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** Adds `[ids...]`-independent options: --all, the filters, --yes, --dry-run, --json. */
export function addSelectionOptions(command: Command, { destructive = true } = {}): Command {
  command.option('--all', 'every open error of the step');
  addFilterOptions(command);
  if (destructive) command.option('-y, --yes', 'do not ask for confirmation').option('--dry-run', 'show what would change, change nothing');
  return command.option('--json', "print the API's response as JSON");
}

/**
 * The selection of a bulk command's arguments and options. Each argument's kind is read from the
 * id itself (its kind byte), so errorIds and retryDataKeys may be mixed on one command line; an
 * argument that is neither is refused by name, before anything is opened or changed.
 */
export function selectionFromOptions(args: string[], opts: SelectionOptions): ErrorSelection {
  const selection: ErrorSelection = {};
  for (const arg of args) {
    const kind = decodeId('error', arg) ? 'errorIds' : decodeId('retryData', arg) ? 'retryDataKeys' : undefined;
    if (!kind) throw new InvalidInputError(`"${arg}" is neither an errorId nor a retryDataKey`, 'ids');
    (selection[kind] ??= []).push(arg);
  }
  if (opts.all) selection.all = true;
  const query = queryTextFromOptions(opts);
  if (query) selection.query = query;
  return selection;
}
