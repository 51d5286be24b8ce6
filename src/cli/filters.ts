import type { Command } from 'commander';
import { formatQuery, mergeQueries, parseQuery, type ErrorQuery, type QueryField, type QueryTerm } from '../domain/query.js';

// The filter flags of every error listing are sugar for the query language: each flag becomes a
// term, merged with --query, so flags, --query and the TUI's `/` filter mean exactly the same.

export interface FilterOptions {
  source?: string;
  classification?: string;
  code?: string;
  assignee?: string;
  tag?: string;
  search?: string;
  since?: string;
  until?: string;
  job?: string;
  query?: string;
}

const FLAG_FIELDS: Array<[keyof FilterOptions, QueryField]> = [
  ['source', 'source'],
  ['classification', 'classification'],
  ['code', 'code'],
  ['assignee', 'assignee'],
  ['tag', 'tag'],
  ['since', 'since'],
  ['until', 'until'],
  ['job', 'job'],
];

export function addFilterOptions(command: Command): Command {
  return command
    .option('--source <source>', 'error source (see `flowdeck errors filters`)')
    .option('--classification <class>', 'classification, e.g. intermittent, value, connection')
    .option('--code <code>', 'error code, e.g. 429 (wildcards * and ? allowed)')
    .option('--assignee <who>', 'an email, "me" or "none"')
    .option('--tag <tag>', 'tag name or code')
    .option('--search <text>', 'words in the message (prefix match)')
    .option('--since <time>', 'occurred at or after: ISO time or 15m, 2h, 7d ago')
    .option('--until <time>', 'occurred at or before: ISO time or 15m, 2h, 7d ago')
    .option('--job <jobId>', 'errors of one flow or retry job')
    .option('-q, --query <query>', 'query language, e.g. \'code:429 !source:connection "timed out" data.customer.email:*@example.com\'');
}

/** One query from the flags and --query; throws InvalidInputError on a bad value. */
export function queryFromOptions(opts: FilterOptions): ErrorQuery {
  const terms: QueryTerm[] = [];
  for (const [flag, field] of FLAG_FIELDS) {
    const value = opts[flag];
    if (value !== undefined) terms.push(...parseQuery(formatQuery({ terms: [{ kind: 'field', field, value, negate: false }] })).terms);
  }
  if (opts.search !== undefined) terms.push({ kind: 'text', text: opts.search, negate: false });
  return mergeQueries({ terms }, parseQuery(opts.query ?? ''));
}

export function queryTextFromOptions(opts: FilterOptions): string {
  return formatQuery(queryFromOptions(opts));
}
