import { InvalidInputError } from '../domain/errors.js';
import { decodeId } from '../domain/ids.js';
import { hasWildcard, resolveTimeValue, wildcardToLike, type QueryTerm } from '../domain/query.js';

// Compiles the query language's terms into SQL over `errors e` (joined to `retry_data r` only
// when a data.* term needs it). The first positive tag or text term may *drive* the query
// (error_tags / errors_fts walked newest-first) so a selective filter never walks the step.

export interface QueryContext {
  /** Tag codes whose code or name matches the value (wildcards allowed); empty when none does. */
  tagCodes(value: string): string[];
  /** The operator's email, for `assignee:me`. */
  me: string;
  now: number;
}

export type Driver = { kind: 'tag'; code: string } | { kind: 'text'; match: string };

export interface CompiledQuery {
  where: string[];
  params: unknown[];
  needsRetryData: boolean;
  driver?: Driver;
}

const COLUMN: Record<string, string> = {
  code: 'e.code',
  source: 'e.source',
  classification: 'e.classification',
  traceKey: 'e.trace_key',
  assignee: 'e.assignee',
};

function matchColumn(column: string, value: string, params: unknown[]): string {
  if (hasWildcard(value)) {
    params.push(wildcardToLike(value));
    return `coalesce(${column}, '') LIKE ? ESCAPE '\\'`;
  }
  params.push(value);
  // IS rather than = so a negated term keeps the rows where the column is empty.
  return `${column} IS ?`;
}

/** An FTS5 expression where every word is a prefix term and quoted phrases stay phrases. */
export function ftsExpression(text: string): string {
  const words = text.match(/[\p{L}\p{N}_]+/gu) ?? [];
  if (words.length === 0) throw new InvalidInputError(`search text "${text}" has no words to search for`);
  if (words.length === 1) return `"${words[0]}"*`;
  return `"${words.join(' ')}"`;
}

export function compileErrorQuery(terms: readonly QueryTerm[], ctx: QueryContext): CompiledQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  let needsRetryData = false;
  let driver: Driver | undefined;

  for (const term of terms) {
    let clause: string;
    if (term.kind === 'text') {
      const match = ftsExpression(term.text);
      if (!term.negate && !driver) {
        driver = { kind: 'text', match };
        continue;
      }
      params.push(match);
      clause = `e.id IN (SELECT rowid FROM errors_fts WHERE errors_fts MATCH ?)`;
    } else if (term.kind === 'data') {
      needsRetryData = true;
      const path = '$' + term.path.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `."${p.replace(/"/g, '')}"`)).join('');
      clause = matchColumn(`json_extract(r.data, '${path.replace(/'/g, "''")}')`, term.value, params);
    } else {
      switch (term.field) {
        case 'code':
        case 'source':
        case 'classification':
        case 'traceKey':
          clause = matchColumn(COLUMN[term.field]!, term.value, params);
          break;
        case 'message':
          params.push(ftsExpression(term.value));
          clause = `e.id IN (SELECT rowid FROM errors_fts WHERE errors_fts MATCH ?)`;
          break;
        case 'assignee': {
          const value = term.value.toLowerCase();
          if (value === 'none') clause = 'e.assignee IS NULL';
          else clause = matchColumn('e.assignee', value === 'me' ? ctx.me : term.value, params);
          break;
        }
        case 'tag': {
          const codes = ctx.tagCodes(term.value);
          if (codes.length === 0 && !hasWildcard(term.value)) {
            throw new InvalidInputError(`unknown tag "${term.value}" (see flowdeck tags list)`, 'tag');
          }
          if (!term.negate && !driver && codes.length === 1) {
            driver = { kind: 'tag', code: codes[0]! };
            continue;
          }
          params.push(JSON.stringify(codes));
          clause = `e.id IN (SELECT error FROM error_tags WHERE tag IN (SELECT value FROM json_each(?)) AND step = e.step AND resolved = e.resolved)`;
          break;
        }
        case 'job': {
          const decoded = decodeId('job', term.value);
          if (!decoded) throw new InvalidInputError(`"${term.value}" is not a job id`, 'job');
          params.push(decoded.rowId);
          clause = 'e.job = ?';
          break;
        }
        case 'errorId': {
          const decoded = decodeId('error', term.value);
          params.push(decoded?.rowId ?? -1);
          clause = 'e.id = ?';
          break;
        }
        case 'retryDataKey': {
          const decoded = decodeId('retryData', term.value);
          params.push(decoded?.rowId ?? -1);
          clause = 'e.retry_data = ?';
          break;
        }
        case 'since':
          params.push(resolveTimeValue(term.value, ctx.now));
          clause = 'e.occurred_at >= ?';
          break;
        case 'until':
          params.push(resolveTimeValue(term.value, ctx.now));
          clause = 'e.occurred_at <= ?';
          break;
        case 'retryable': {
          const yes = /^(yes|true|1)$/i.test(term.value);
          clause = yes ? 'e.retry_data IS NOT NULL' : 'e.retry_data IS NULL';
          break;
        }
      }
    }
    where.push(term.negate ? `NOT (${clause})` : clause);
  }
  const compiled: CompiledQuery = { where, params, needsRetryData };
  if (driver) compiled.driver = driver;
  return compiled;
}
