import { InvalidInputError } from '../../domain/errors.js';
import { decodeId } from '../../domain/ids.js';
import { hasWildcard, resolveTimeValue, wildcardToLike, type QueryTerm } from '../../domain/query.js';
import { parseSignature } from '../../domain/signature.js';
import type { QueryContext } from '../contract/queries.js';

// The query language compiled to PostgreSQL over `errors e` (joined to `retry_data r` only when a
// data.* term needs it): the same terms and meaning as the SQLite adapter's compileErrorQuery.
// The first positive single-tag or text term *drives* the query (error_tags walked by id, or the
// errors.search GIN index); otherwise the planner picks among the (step, resolved, column, id)
// indexes from its statistics, so there is no hand-picked driver as on SQLite.
//
// Where PostgreSQL cannot say what SQLite says, the choice made is the one closest in results:
// - SQLite's LIKE ignores ASCII case: wildcards compile to ILIKE.
// - errors.assignee is COLLATE NOCASE on SQLite: compared here through lower() (indexed so).
// - `IS ?` keeps rows with an empty column under a negation: IS NOT DISTINCT FROM here; a
//   positive term uses `=` (the same rows, and it can use an index).

/** $1, $2… placeholders handed out in order, with their values. */
export class PgParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export type PgDriver = { kind: 'tag'; code: string } | { kind: 'text'; query: string };

/** The bounds the positive since/until terms put on occurred_at (epoch ms, inclusive). */
export interface PgQueryTimes {
  since?: number;
  until?: number;
}

export interface PgCompiledQuery extends PgQueryTimes {
  /** WHERE terms; their placeholders are already in the PgParams given to the compiler. */
  where: string[];
  needsRetryData: boolean;
  driver?: PgDriver;
}

const COLUMN: Record<string, string> = {
  code: 'e.code',
  source: 'e.source',
  classification: 'e.classification',
  traceKey: 'e.trace_key',
};

function sigValue(text: string): number {
  const sig = parseSignature(text);
  if (sig === undefined) throw new InvalidInputError(`invalid signature "${text}" (12 hex digits)`, 'sig');
  return sig;
}

function matchColumn(column: string, value: string, negate: boolean, p: PgParams): string {
  if (hasWildcard(value)) return `coalesce(${column}, '') ILIKE ${p.add(wildcardToLike(value))} ESCAPE '\\'`;
  return negate ? `${column} IS NOT DISTINCT FROM ${p.add(value)}` : `${column} = ${p.add(value)}`;
}

function matchAssignee(value: string, negate: boolean, p: PgParams): string {
  if (hasWildcard(value)) return `coalesce(e.assignee, '') ILIKE ${p.add(wildcardToLike(value))} ESCAPE '\\'`;
  const column = 'lower(e.assignee)';
  return negate ? `${column} IS NOT DISTINCT FROM lower(${p.add(value)})` : `${column} = lower(${p.add(value)})`;
}

/**
 * The tokens of search text as errors.search holds them (see listing-schema.ts): runs of letters
 * and digits, lower-cased. `_` separates, as in SQLite's unicode61 tokenizer.
 */
export function searchTokens(text: string): string[] {
  return (text.match(/[\p{L}\p{N}]+/gu) ?? []).map((w) => w.toLowerCase());
}

/**
 * A tsquery ('simple' configuration) with SQLite's FTS5 meaning (ftsExpression): one word of the
 * text is a prefix of any word of the message; several words are a phrase (adjacent, in order,
 * whole words). A word that `_` splits stays one phrase whose last part is a prefix, as FTS5 reads it.
 */
export function tsQueryText(text: string): string {
  const words = text.match(/[\p{L}\p{N}_]+/gu) ?? [];
  const tokens = searchTokens(text);
  if (words.length === 0 || tokens.length === 0) throw new InvalidInputError(`search text "${text}" has no words to search for`);
  const phrase = tokens.join(' <-> ');
  return words.length === 1 ? `${phrase}:*` : phrase;
}

/** The search condition on errors.search for message text. */
function textClause(text: string, p: PgParams): string {
  return `e.search @@ to_tsquery('simple', ${p.add(tsQueryText(text))})`;
}

/** The jsonb path of a data.* term as a text[] parameter (`#>`: object keys and array indexes alike). */
function dataClause(path: readonly string[], value: string, negate: boolean, p: PgParams): string {
  const at = `(r.data::jsonb #> ${p.add(path)}::text[])`;
  // SQLite's json_extract gives strings as text and other values as numbers or JSON: an exact term
  // matches only a string equal to it, a wildcard matches the value's text.
  // json_extract's text of a boolean is 1 or 0; of anything else, what #>> gives (objects and
  // arrays aside: SQLite prints them without spaces, jsonb with).
  const asText = `CASE jsonb_typeof(${at}) WHEN 'boolean' THEN (${at} = 'true'::jsonb)::int::text ELSE ${at} #>> '{}' END`;
  if (hasWildcard(value)) return `coalesce(${asText}, '') ILIKE ${p.add(wildcardToLike(value))} ESCAPE '\\'`;
  const test = `to_jsonb(${p.add(value)}::text)`;
  return negate ? `${at} IS NOT DISTINCT FROM ${test}` : `${at} = ${test}`;
}

function singleTagCode(term: QueryTerm, ctx: QueryContext): string | undefined {
  if (term.kind !== 'field' || term.field !== 'tag' || term.negate) return undefined;
  const codes = ctx.tagCodes(term.value);
  return codes.length === 1 ? codes[0] : undefined;
}

export function compilePgErrorQuery(terms: readonly QueryTerm[], ctx: QueryContext, p: PgParams): PgCompiledQuery {
  const where: string[] = [];
  let needsRetryData = false;
  let driver: PgDriver | undefined;
  const times: PgQueryTimes = {};

  for (const term of terms) {
    if (term.kind === 'field' && !term.negate && (term.field === 'since' || term.field === 'until')) {
      const at = resolveTimeValue(term.value, ctx.now);
      if (term.field === 'since') times.since = Math.max(times.since ?? at, at);
      else times.until = Math.min(times.until ?? at, at);
    }
  }

  for (const term of terms) {
    let clause: string;
    const negate = term.negate;
    if (term.kind === 'text') {
      if (!negate && !driver) {
        driver = { kind: 'text', query: tsQueryText(term.text) };
        continue;
      }
      clause = textClause(term.text, p);
    } else if (term.kind === 'data') {
      needsRetryData = true;
      clause = dataClause(term.path, term.value, negate, p);
    } else {
      switch (term.field) {
        case 'code':
        case 'source':
        case 'classification':
        case 'traceKey':
          clause = matchColumn(COLUMN[term.field]!, term.value, negate, p);
          break;
        case 'message':
          clause = textClause(term.value, p);
          break;
        case 'assignee': {
          const value = term.value.toLowerCase();
          if (value === 'none') clause = 'e.assignee IS NULL';
          else clause = matchAssignee(value === 'me' ? ctx.me : term.value, negate, p);
          break;
        }
        case 'tag': {
          const codes = ctx.tagCodes(term.value);
          if (codes.length === 0 && !hasWildcard(term.value)) {
            throw new InvalidInputError(`unknown tag "${term.value}" (see flowdeck tags list)`, 'tag', 'invalid_ref');
          }
          const single = singleTagCode(term, ctx);
          if (single !== undefined && !driver) {
            driver = { kind: 'tag', code: single };
            continue;
          }
          clause = `e.id IN (SELECT t.error FROM error_tags t WHERE t.tag = ANY(${p.add(codes)}::text[]) AND t.step = e.step AND t.resolved = e.resolved)`;
          break;
        }
        case 'job': {
          const decoded = decodeId('job', term.value);
          if (!decoded) throw new InvalidInputError(`"${term.value}" is not a job id`, 'job');
          clause = `e.job = ${p.add(decoded.rowId)}`;
          break;
        }
        case 'errorId': {
          const decoded = decodeId('error', term.value);
          clause = `e.id = ${p.add(decoded?.rowId ?? -1)}`;
          break;
        }
        case 'retryDataKey': {
          const decoded = decodeId('retryData', term.value);
          clause = `e.retry_data = ${p.add(decoded?.rowId ?? -1)}`;
          break;
        }
        case 'since':
          clause = `e.occurred_at >= ${p.add(resolveTimeValue(term.value, ctx.now))}`;
          break;
        case 'until':
          clause = `e.occurred_at <= ${p.add(resolveTimeValue(term.value, ctx.now))}`;
          break;
        case 'sig':
          clause = negate ? `e.sig IS NOT DISTINCT FROM ${p.add(sigValue(term.value))}` : `e.sig = ${p.add(sigValue(term.value))}`;
          break;
        case 'retryable': {
          const yes = /^(yes|true|1)$/i.test(term.value);
          clause = yes ? 'e.retry_data IS NOT NULL' : 'e.retry_data IS NULL';
          break;
        }
      }
    }
    where.push(negate ? `NOT (${clause})` : clause);
  }
  const compiled: PgCompiledQuery = { ...times, where, needsRetryData };
  if (driver) compiled.driver = driver;
  return compiled;
}
