import { InvalidInputError } from '../../domain/errors.js';
import { decodeId } from '../../domain/ids.js';
import { hasWildcard, resolveTimeValue, wildcardToLike, type QueryTerm } from '../../domain/query.js';
import { parseSignature } from '../../domain/signature.js';
import type { QueryContext } from '../contract/queries.js';
export type { QueryContext } from '../contract/queries.js';

// Compiles the query language's terms into SQL over `errors e` (joined to `retry_data r` only
// when a data.* term needs it). The first positive tag or text term may *drive* the query
// (error_tags / errors_fts walked newest-first) so a selective filter never walks the step.
// Otherwise an index (step, resolved, column) drives; when several equality terms have one, the
// caller may pick which, and the others are checked by probing their own index, not the row.
// since/until also come back as times, so the caller can bound the walk by row id.


export type Driver = { kind: 'tag'; code: string } | { kind: 'text'; match: string };

export type IndexedColumn = 'code' | 'source' | 'classification' | 'assignee' | 'sig';

/** A positive exact `code:` / `source:` / `classification:` / `assignee:` / `sig:` term: its column follows (step, resolved) in an index. */
export interface IndexedTerm {
  column: IndexedColumn;
  /** The index whose key is (step, resolved, column) and then the row id. */
  index: string;
  /** Compared with IS; null for `assignee:none`; the stored integer for `sig:`. */
  value: string | number | null;
}

export interface CompileOptions {
  /** The step listed: text terms then search only its rows of errors_fts. */
  step?: number;
  /**
   * Called when two or more indexed terms (and no tag or text term) could drive: returns the one
   * whose index to walk. The others become probes of their own (covering) index by row id, so a
   * walked row that fails them is never read. Without it, every term is a plain comparison.
   */
  pickIndexedDriver?: (terms: readonly IndexedTerm[], times: QueryTimes) => IndexedTerm;
}

/** The bounds the positive since/until terms put on occurred_at (epoch ms, inclusive). */
export interface QueryTimes {
  since?: number;
  until?: number;
}

export interface CompiledQuery extends QueryTimes {
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

const INDEX_OF: Record<IndexedColumn, string> = {
  code: 'ix_errors_code',
  source: 'ix_errors_source',
  classification: 'ix_errors_class',
  assignee: 'ix_errors_assignee',
  sig: 'ix_errors_sig',
};

function sigValue(text: string): number {
  const sig = parseSignature(text);
  if (sig === undefined) throw new InvalidInputError(`invalid signature "${text}" (12 hex digits)`, 'sig');
  return sig;
}

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

/**
 * The token in errors_fts's `step` column of a step's rows. Matching it together with the words
 * makes FTS intersect the two doclists, so a word that only other steps' messages have costs
 * nothing (migration 5 fills the column; writers of errors_fts use this).
 */
export function ftsStepToken(step: number): string {
  return `${STEP_TOKEN_PREFIX}${step}`;
}

/** ftsStepToken in SQL, of a step column (for FTS rows derived from errors rows in bulk). */
export function ftsStepTokenSql(column: string): string {
  return `'${STEP_TOKEN_PREFIX}' || ${column}`;
}

const STEP_TOKEN_PREFIX = 'zstep';

/** The errors_fts MATCH expression for message text, limited to one step's rows when given. */
export function ftsMatch(text: string, step?: number): string {
  const message = `message : ${ftsExpression(text)}`;
  return step === undefined ? message : `step : "${ftsStepToken(step)}" AND ${message}`;
}

/** The term as an indexed equality, when it is one (positive, exact, on an indexed column). */
function indexedTerm(term: QueryTerm, ctx: QueryContext): IndexedTerm | undefined {
  if (term.kind !== 'field' || term.negate) return undefined;
  const column = term.field;
  if (column === 'sig') return { column, index: INDEX_OF.sig, value: sigValue(term.value) };
  if (column !== 'code' && column !== 'source' && column !== 'classification' && column !== 'assignee') return undefined;
  if (hasWildcard(term.value)) return undefined;
  let value: string | number | null = term.value;
  if (column === 'assignee') {
    const lower = term.value.toLowerCase();
    value = lower === 'none' ? null : lower === 'me' ? ctx.me : term.value;
  }
  return { column, index: INDEX_OF[column], value };
}

/** Whether a term will drive the query through error_tags or errors_fts (see compileErrorQuery). */
function drivesItself(term: QueryTerm, ctx: QueryContext): boolean {
  if (term.negate) return false;
  if (term.kind === 'text') return true;
  return term.kind === 'field' && term.field === 'tag' && ctx.tagCodes(term.value).length === 1;
}

function indexedClause(t: IndexedTerm, probe: boolean, params: unknown[]): string {
  if (t.value !== null) params.push(t.value);
  const test = t.value === null ? 'IS NULL' : 'IS ?';
  if (!probe) return `e.${t.column} ${test}`;
  // The index holds (step, resolved, column, id): one seek answers the term without reading the row.
  return `EXISTS (SELECT 1 FROM errors x INDEXED BY ${t.index} WHERE x.step = e.step AND x.resolved = e.resolved AND x.${t.column} ${test} AND x.id = e.id)`;
}

export function compileErrorQuery(terms: readonly QueryTerm[], ctx: QueryContext, options: CompileOptions = {}): CompiledQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  let needsRetryData = false;
  let driver: Driver | undefined;

  const times: QueryTimes = {};
  const indexed = new Map<QueryTerm, IndexedTerm>();
  for (const term of terms) {
    const t = indexedTerm(term, ctx);
    if (t) indexed.set(term, t);
    if (term.kind === 'field' && !term.negate && (term.field === 'since' || term.field === 'until')) {
      const at = resolveTimeValue(term.value, ctx.now);
      if (term.field === 'since') times.since = Math.max(times.since ?? at, at);
      else times.until = Math.min(times.until ?? at, at);
    }
  }
  // Which indexed term drives (the rest are probes): only asked when no tag or text term drives.
  let indexDriver: IndexedTerm | undefined;
  if (options.pickIndexedDriver && indexed.size > 1 && !terms.some((t) => drivesItself(t, ctx))) {
    indexDriver = options.pickIndexedDriver([...indexed.values()], times);
  }

  for (const term of terms) {
    let clause: string;
    const asIndexed = indexed.get(term);
    if (asIndexed) {
      where.push(indexedClause(asIndexed, indexDriver !== undefined && asIndexed !== indexDriver, params));
      continue;
    }
    if (term.kind === 'text') {
      const match = ftsMatch(term.text, options.step);
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
          params.push(ftsMatch(term.value, options.step));
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
            throw new InvalidInputError(`unknown tag "${term.value}" (see flowdeck tags list)`, 'tag', 'invalid_ref');
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
        case 'sig':
          params.push(sigValue(term.value));
          clause = 'e.sig IS ?';
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
  const compiled: CompiledQuery = { ...times, where, params, needsRetryData };
  if (driver) compiled.driver = driver;
  return compiled;
}
