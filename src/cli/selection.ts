import type { Command } from 'commander';
import type { ErrorSelection } from '../backend/selection.js';
import { addFilterOptions, queryTextFromOptions, type FilterOptions } from './filters.js';

// Bulk commands all take the same selection: ids as arguments, --all, or the list filters.

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

export function selectionFromOptions(ids: string[], opts: SelectionOptions, idKind: 'errorIds' | 'retryDataKeys' = 'errorIds'): ErrorSelection {
  const selection: ErrorSelection = {};
  if (ids.length > 0) selection[idKind] = ids;
  if (opts.all) selection.all = true;
  const query = queryTextFromOptions(opts);
  if (query) selection.query = query;
  return selection;
}
