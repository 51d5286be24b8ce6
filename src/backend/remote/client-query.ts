import type { FlowStepError } from '../../domain/api.js';
import { InvalidInputError } from '../../domain/errors.js';
import { hasWildcard, parseQuery, resolveTimeValue, type QueryTerm } from '../../domain/query.js';
import { notAvailable } from './remote-errors.js';

// The query language evaluated on the client, over the errors a plain spec server lists (its
// listing cannot filter). Each term means what the store makes of it (src/store/error-query.ts): an
// exact value is an exact match, a wildcard a case-insensitive LIKE, message text FTS5's words
// (unicode61: case and diacritics folded; one word matches as a prefix, several as a phrase),
// since/until on occurredAt. Terms that need what the listing does not carry — `data.…` (the
// snapshot), `sig:` (the store's signature), `assignee:me` (who "me" is) — are refused by name.
// Tags are matched by name, as the spec's listing shows them.

export type ErrorPredicate = (error: FlowStepError) => boolean;

/** The predicate of a query, or undefined for an empty one (everything matches). */
export function clientPredicate(query: string | undefined, url: string, now = Date.now()): ErrorPredicate | undefined {
  if (!query?.trim()) return undefined;
  const tests = parseQuery(query).terms.map((term) => {
    const test = termTest(term, url, now);
    return term.negate ? (e: FlowStepError) => !test(e) : test;
  });
  if (tests.length === 0) return undefined;
  return (e) => tests.every((t) => t(e));
}

function termTest(term: QueryTerm, url: string, now: number): ErrorPredicate {
  if (term.kind === 'text') return textTest(term.text);
  if (term.kind === 'data') throw notAvailable(`filtering by record data (data.${term.path.join('.')})`, url);
  const value = term.value;
  switch (term.field) {
    case 'code':
    case 'source':
    case 'classification':
    case 'traceKey':
      return columnTest((e) => e[term.field as 'code' | 'source' | 'classification' | 'traceKey'], value);
    case 'message':
      return textTest(value);
    case 'assignee': {
      const lower = value.toLowerCase();
      if (lower === 'none') return (e) => e.assignedTo === undefined;
      if (lower === 'me') throw notAvailable('assignee:me', url);
      return columnTest((e) => e.assignedTo, value);
    }
    case 'tag': {
      const like = hasWildcard(value) ? likeRegExp(value) : undefined;
      const lower = value.toLowerCase();
      return (e) => (e.tags ?? []).some((t) => (like ? like.test(t) : t.toLowerCase() === lower));
    }
    case 'job':
      if (!/^[0-9a-f]{24}$/i.test(value)) throw new InvalidInputError(`"${value}" is not a job id`, 'job');
      return (e) => e._flowJobId?.toLowerCase() === value.toLowerCase();
    case 'errorId':
      return (e) => e.errorId.toLowerCase() === value.toLowerCase();
    case 'retryDataKey':
      return (e) => e.retryDataKey?.toLowerCase() === value.toLowerCase();
    case 'since': {
      const at = resolveTimeValue(value, now);
      return (e) => Date.parse(e.occurredAt) >= at;
    }
    case 'until': {
      const at = resolveTimeValue(value, now);
      return (e) => Date.parse(e.occurredAt) <= at;
    }
    case 'retryable': {
      const yes = /^(yes|true|1)$/i.test(value);
      return (e) => (e.retryDataKey !== undefined) === yes;
    }
    case 'sig':
      throw notAvailable('sig: filters (error signatures)', url);
  }
}

/** Exact (IS: case-sensitive, a missing value matches nothing) or a wildcard (LIKE: any case, missing as ''). */
function columnTest(get: (e: FlowStepError) => string | undefined, value: string): ErrorPredicate {
  if (!hasWildcard(value)) return (e) => get(e) === value;
  const like = likeRegExp(value);
  return (e) => like.test(get(e) ?? '');
}

/** A `*`/`?` wildcard as SQLite's LIKE reads it: the whole value, ASCII letters in any case. */
function likeRegExp(value: string): RegExp {
  const body = [...value].map((c) => (c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'i');
}

/** FTS5 unicode61 tokens: letters and digits, case and diacritics folded. */
export function ftsTokens(text: string): string[] {
  return (
    text
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** One word: a token starting with it; several: the words as consecutive tokens (the store's ftsExpression). */
function textTest(text: string): ErrorPredicate {
  const words = ftsTokens(text);
  if (words.length === 0) throw new InvalidInputError(`search text "${text}" has no words to search for`);
  if (words.length === 1) {
    const word = words[0]!;
    return (e) => ftsTokens(e.message).some((t) => t.startsWith(word));
  }
  return (e) => {
    const tokens = ftsTokens(e.message);
    for (let i = 0; i + words.length <= tokens.length; i++) if (words.every((w, j) => tokens[i + j] === w)) return true;
    return false;
  };
}
