// One query language for filtering errors, shared by the commands (--query) and the TUI's filter bar.
// Pure: no I/O and no clock (callers pass `now` to resolveTimeValue and resolve `assignee:me`).

import { InvalidInputError } from './errors.js';
import { CLASSIFICATIONS, ERROR_SOURCES } from './filter-metadata.js';
import { parseSignature } from './signature.js';

export type QueryField =
  | 'code' | 'source' | 'classification' | 'tag' | 'assignee' | 'traceKey' | 'job'
  | 'retryDataKey' | 'errorId' | 'since' | 'until' | 'retryable' | 'message' | 'sig';

export type QueryTerm =
  /** `value` may contain `*` and `?` wildcards (see hasWildcard / wildcardToLike). */
  | { kind: 'field'; field: QueryField; value: string; negate: boolean }
  /** `data.customer.email:*@x` → path ['customer', 'email']. */
  | { kind: 'data'; path: string[]; value: string; negate: boolean }
  /** Free text or a quoted phrase, matched against the message. */
  | { kind: 'text'; text: string; negate: boolean };

export interface ErrorQuery {
  terms: QueryTerm[];
}

/** The canonical field names, in the order used by help and error messages. */
export const QUERY_FIELDS: readonly QueryField[] = [
  'code', 'source', 'classification', 'tag', 'assignee', 'traceKey', 'job',
  'retryDataKey', 'errorId', 'since', 'until', 'retryable', 'message', 'sig',
];

const ALIASES: Record<QueryField, readonly string[]> = {
  code: ['code'],
  source: ['source', 'src'],
  classification: ['classification', 'class'],
  tag: ['tag', 'tags'],
  assignee: ['assignee', 'assigned', 'assignedTo'],
  traceKey: ['traceKey', 'trace'],
  job: ['job', 'flowJobId'],
  retryDataKey: ['retryDataKey', 'rdk'],
  errorId: ['errorId', 'id'],
  since: ['since', 'after'],
  until: ['until', 'before'],
  retryable: ['retryable'],
  message: ['message', 'msg', 'text'],
  sig: ['sig', 'signature', 'group'],
};

const FIELD_BY_ALIAS = new Map<string, QueryField>(
  QUERY_FIELDS.flatMap((field) => ALIASES[field].map((alias) => [alias.toLowerCase(), field] as const)),
);

export const QUERY_HELP = [
  'Filter syntax: space-separated terms, all of which must match.',
  '  code:429  source:connection  class:intermittent  tag:"Needs review"  retryable:yes|no',
  '  assignee:me|none|<email>  trace:<key>  job:<id>  rdk:<key>  id:<errorId>  sig:<group>  (errors groups shows a group\'s sig)',
  '  since:2h  until:2026-11-20T10:00:00Z   durations (30s 15m 2h 7d) mean "that long ago"; times without a zone are UTC',
  '  data.customer.email:*@example.com  data.items[0].sku:X   match a field of the retry data',
  '  timeout  "timed out"  msg:"Rate*"   free text, matched against the message',
  '  !term or -term negates a term; * and ? are wildcards in field values; quote values with spaces ("a \\"b\\"").',
].join('\n');

// Only a word whose prefix looks like an identifier is a `field:`; `10:30` stays text.
const NAME_RE = /^[A-Za-z_][\w.]*$/;
const DATA_RE = /^data[.[]/i;

function fail(message: string): never {
  throw new InvalidInputError(message, 'query');
}

function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && /\s/.test(ch);
}

/** Reads one word from `pos`: bare characters and "quoted" segments, up to unquoted whitespace. */
function readWord(input: string, pos: number): { value: string; end: number } {
  let value = '';
  let i = pos;
  while (i < input.length && !isSpace(input[i])) {
    const ch = input[i]!;
    if (ch !== '"') {
      value += ch;
      i++;
      continue;
    }
    const open = i++;
    for (;;) {
      if (i >= input.length) fail(`unterminated quote at position ${open}`);
      const c = input[i]!;
      if (c === '"') {
        i++;
        break;
      }
      // Only \" and \\ are escapes, so Windows paths and regex-ish text survive quoting.
      if (c === '\\' && (input[i + 1] === '"' || input[i + 1] === '\\')) {
        value += input[i + 1];
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
  }
  return { value, end: i };
}

function parseDataPath(name: string): string[] {
  const rest = name.slice(4); // after "data"
  const path: string[] = [];
  let i = 0;
  while (i < rest.length) {
    const ch = rest[i];
    if (ch === '.') {
      let j = i + 1;
      while (j < rest.length && rest[j] !== '.' && rest[j] !== '[') j++;
      const segment = rest.slice(i + 1, j);
      if (segment === '') fail(`empty segment in data path "${name}"`);
      if (segment.includes(']')) fail(`unexpected "]" in data path "${name}"`);
      path.push(segment);
      i = j;
    } else if (ch === '[') {
      const close = rest.indexOf(']', i);
      const index = close < 0 ? '' : rest.slice(i + 1, close);
      if (!/^\d+$/.test(index)) fail(`invalid array index in data path "${name}" (expected [0], [1], …)`);
      path.push(String(Number(index)));
      i = close + 1;
    } else {
      fail(`unexpected "${ch}" in data path "${name}"`);
    }
  }
  if (path.some(hasWildcard)) fail(`wildcards are not supported in data paths ("${name}")`);
  return path;
}

function validEnum(kind: string, value: string, valid: readonly string[]): string {
  const lower = value.toLowerCase();
  if (hasWildcard(lower) || valid.includes(lower)) return lower;
  return fail(`unknown ${kind} "${value}" (valid: ${valid.join(', ')})`);
}

/** Validates and normalises a field value (enums lower-cased, retryable → 'true' | 'false'). */
function normaliseValue(field: QueryField, value: string): string {
  switch (field) {
    case 'source':
      return validEnum('source', value, ERROR_SOURCES);
    case 'classification':
      return validEnum('classification', value, CLASSIFICATIONS);
    case 'assignee': {
      const lower = value.toLowerCase();
      return lower === 'me' || lower === 'none' ? lower : value;
    }
    case 'retryable': {
      const lower = value.toLowerCase();
      if (lower === 'yes' || lower === 'true') return 'true';
      if (lower === 'no' || lower === 'false') return 'false';
      return fail(`invalid retryable value "${value}" (expected yes, no, true or false)`);
    }
    case 'since':
    case 'until':
      resolveTime(value, 0, field);
      return value;
    case 'sig':
      if (parseSignature(value) === undefined) fail(`invalid signature "${value}" (a group's sig is 12 hex digits, as \`flowdeck errors groups\` shows it)`);
      return value.toLowerCase();
    default:
      return value;
  }
}

export function parseQuery(input: string): ErrorQuery {
  const terms: QueryTerm[] = [];
  const n = input.length;
  let i = 0;
  for (;;) {
    while (isSpace(input[i])) i++;
    if (i >= n) break;

    let negate = false;
    if (input[i] === '!' || input[i] === '-') {
      if (i + 1 >= n || isSpace(input[i + 1])) fail(`"${input[i]}" without a term to negate at position ${i}`);
      negate = true;
      i++;
    }

    // The field name is the unquoted run before the first ':'.
    let colon = i;
    while (colon < n && input[colon] !== ':' && input[colon] !== '"' && !isSpace(input[colon])) colon++;
    if (input[colon] === ':') {
      const name = input.slice(i, colon);
      const lower = name.toLowerCase();
      const isData = DATA_RE.test(name);
      const field = FIELD_BY_ALIAS.get(lower);
      if (isData || field !== undefined || lower === 'data') {
        const { value, end } = readWord(input, colon + 1);
        if (value === '') fail(`empty value for "${name}" at position ${colon + 1}`);
        if (isData) {
          terms.push({ kind: 'data', path: parseDataPath(name), value, negate });
        } else if (field !== undefined) {
          terms.push({ kind: 'field', field, value: normaliseValue(field, value), negate });
        } else {
          fail(`"data" needs a path, e.g. data.customer.email:${value}`);
        }
        i = end;
        continue;
      }
      // Unknown identifiers are typos, except URL schemes (http://x), which are plain text.
      if (NAME_RE.test(name) && !input.startsWith('//', colon + 1)) {
        fail(`unknown filter field "${name}" (valid: ${QUERY_FIELDS.join(', ')}, data.<path>)`);
      }
    }

    const start = i;
    const { value, end } = readWord(input, i);
    if (value === '') fail(`empty phrase at position ${start}`);
    terms.push({ kind: 'text', text: value, negate });
    i = end;
  }
  return { terms };
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function formatValue(value: string): string {
  return value === '' || /[\s"]/.test(value) ? quote(value) : value;
}

function formatPath(path: string[]): string {
  if (path.length === 0) fail('a data term needs a non-empty path');
  return path
    .map((segment) => {
      if (/^\d+$/.test(segment)) return `[${segment}]`;
      if (segment === '' || /[\s.[\]:"*?]/.test(segment)) fail(`data path segment "${segment}" cannot be written in a query`);
      return `.${segment}`;
    })
    .join('');
}

function formatTerm(term: QueryTerm): string {
  const prefix = term.negate ? '!' : '';
  switch (term.kind) {
    case 'field':
      return `${prefix}${term.field}:${formatValue(term.value)}`;
    case 'data':
      return `${prefix}data${formatPath(term.path)}:${formatValue(term.value)}`;
    case 'text':
      // Quote anything that could read as a negation or a field:value.
      return prefix + (/^[!-]|[\s":]/.test(term.text) || term.text === '' ? quote(term.text) : term.text);
  }
}

/** Canonical text (canonical field names, `!` for negation) that parses back to an equal query. */
export function formatQuery(query: ErrorQuery): string {
  return query.terms.map(formatTerm).join(' ');
}

function termKey(term: QueryTerm): string {
  switch (term.kind) {
    case 'field':
      return JSON.stringify([term.kind, term.negate, term.field, term.value]);
    case 'data':
      return JSON.stringify([term.kind, term.negate, term.path, term.value]);
    case 'text':
      return JSON.stringify([term.kind, term.negate, term.text]);
  }
}

/** The AND of all the queries' terms, in order, without exact duplicates. */
export function mergeQueries(...queries: ErrorQuery[]): ErrorQuery {
  const seen = new Set<string>();
  const terms: QueryTerm[] = [];
  for (const query of queries) {
    for (const term of query.terms) {
      const key = termKey(term);
      if (seen.has(key)) continue;
      seen.add(key);
      terms.push(term.kind === 'data' ? { ...term, path: [...term.path] } : { ...term });
    }
  }
  return { terms };
}

export function hasWildcard(value: string): boolean {
  return /[*?]/.test(value);
}

/** A wildcard pattern as a SQL LIKE pattern, for use with `ESCAPE '\'`. */
export function wildcardToLike(value: string): string {
  return value.replace(/[\\%_*?]/g, (c) => (c === '*' ? '%' : c === '?' ? '_' : `\\${c}`));
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

function resolveTime(value: string, now: number, field?: string): number {
  const bad = (): never =>
    fail(
      `invalid time "${value}"${field ? ` for ${field}` : ''} ` +
        '(expected a date like 2026-11-20, a time like 2026-11-20T10:00:00Z, or a duration like 30s, 15m, 2h, 7d)',
    );
  const relative = /^(\d+)([smhdw])$/i.exec(value);
  if (relative) {
    const ms = Number(relative[1]) * UNIT_MS[relative[2]!.toLowerCase()]!;
    return Number.isSafeInteger(ms) ? now - ms : bad();
  }
  const iso = ISO_RE.exec(value);
  if (!iso) return bad();
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = iso;
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = Number(h), minute = Number(mi), second = Number(s);
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) bad();
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(-2));
    if (oh > 23 || om > 59) bad();
    offsetMin = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
}

/**
 * A since/until value as epoch ms: an ISO date or date-time (no zone = UTC), or a duration
 * (`30s`, `15m`, `2h`, `7d`, `1w`) meaning that long before `now`.
 */
export function resolveTimeValue(value: string, now: number): number {
  return resolveTime(value, now);
}
